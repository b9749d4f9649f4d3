"""One card that cannot be rendered never stops an issue: the cards that fail are found by
halving (a few renders, not one per card) and left out, and the rest is rendered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Card = TypeVar("Card")
Rendered = TypeVar("Rendered")


def render_without_faulty(
    cards: Sequence[Card],
    render: Callable[[Sequence[Card]], Rendered],
    drop: Callable[[Card, Exception], None],
) -> Rendered:
    """``render(cards)``; when that fails, each card that fails on its own goes to ``drop`` and
    the others are rendered. When no card renders, the templates are at fault, not a paper, and
    the error stands (an issue then pauses rather than go out empty)."""
    try:
        return render(cards)
    except Exception:
        if not cards:
            raise
        half = len(cards) // 2
        kept = _renderable(cards[:half], render, drop) + _renderable(cards[half:], render, drop)
        if not kept:
            raise
        return render(kept)


def _renderable(
    cards: Sequence[Card],
    render: Callable[[Sequence[Card]], object],
    drop: Callable[[Card, Exception], None],
) -> list[Card]:
    if not cards:
        return []
    try:
        render(cards)
    except Exception as exc:
        if len(cards) == 1:
            drop(cards[0], exc)
            return []
        half = len(cards) // 2
        return _renderable(cards[:half], render, drop) + _renderable(cards[half:], render, drop)
    return list(cards)
