"""Text from outside printed on the operator's terminal carries no control sequences."""

from __future__ import annotations

from digest.cli.output import printable


def test_control_characters_become_spaces_and_markup_is_escaped() -> None:
    shown = printable("a\x1b]0;owned\x07b \x9b31m c\x00d [bold]e[/bold]\tf")
    assert not any(ch in shown for ch in "\x1b\x07\x9b\x00")
    assert shown == "a ]0;owned b  31m c d \\[bold]e\\[/bold]\tf"


def test_direction_overrides_and_zero_width_characters_are_removed() -> None:
    """A stranger's subject cannot reorder how a kept line reads (U+202E) or hide text."""
    shown = printable("invoice\u202efdp.exe \u200bhidden\u2066x\u2069 café")
    assert shown == "invoicefdp.exe hiddenx café"
