"""Finding the cards that cannot be rendered: dropped by halving, the rest rendered; when no
card renders the templates are at fault and the error stands."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from digest.compose.card_faults import render_without_faulty


class Renderer:
    """Renders a list of cards, failing when it holds a bad one; counts its renders."""

    def __init__(self, bad: set[int]) -> None:
        self.bad = bad
        self.renders = 0

    def __call__(self, cards: Sequence[int]) -> list[int]:
        self.renders += 1
        if self.bad.intersection(cards):
            raise ValueError("unable to parse next template in root template")
        return list(cards)


def test_the_faulty_cards_are_dropped_and_the_rest_rendered_in_few_renders() -> None:
    render = Renderer({5, 40})
    dropped: list[tuple[int, str]] = []
    rendered = render_without_faulty(
        list(range(64)), render, lambda card, exc: dropped.append((card, str(exc)))
    )
    assert rendered == [c for c in range(64) if c not in (5, 40)]
    assert [card for card, _ in dropped] == [5, 40]
    assert all("unable to parse" in why for _, why in dropped)
    assert render.renders < 30  # halving, not one render per card


def test_nothing_is_dropped_when_everything_renders() -> None:
    render = Renderer(set())
    assert render_without_faulty([1, 2, 3], render, lambda *_: pytest.fail("dropped")) == [1, 2, 3]
    assert render.renders == 1


def test_when_no_card_renders_the_templates_are_at_fault_and_the_error_stands() -> None:
    dropped: list[int] = []
    with pytest.raises(ValueError, match="unable to parse"):
        render_without_faulty([1, 2, 3], Renderer({1, 2, 3}), lambda c, _: dropped.append(c))
    assert dropped == [1, 2, 3]  # each was tried alone before the error was let through
    with pytest.raises(ValueError):
        render_without_faulty([], _failing, lambda *_: None)


def _failing(cards: Sequence[int]) -> list[int]:
    raise ValueError("broken template")
