"""Text from outside (a stranger's subject, a paper title, an address) made safe to print on
the operator's terminal: control characters (C0, DEL, C1: escape sequences that could retitle
the window, move the cursor or hide lines) become spaces, invisible format characters
(Unicode category Cf: direction overrides that reorder what a line seems to say, zero-width
characters) are removed, and Rich markup is escaped. Terminal
output only; what is stored or sent is cleaned elsewhere."""

from __future__ import annotations

import re
import unicodedata

from rich.markup import escape

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and newline stay


def printable(text: str) -> str:
    """``text`` without terminal control or invisible format characters, Rich markup escaped."""
    text = _CONTROLS.sub(" ", text)
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return escape(text)
