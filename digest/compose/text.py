"""Plain-text helpers: cleaning hostile paper text, shortening, and wrapping at 78 columns."""

from __future__ import annotations

import textwrap
from functools import lru_cache

from papercore.latex import readable
from papercore.text import clean_text

WIDTH = 78


def clean(text: str | None) -> str:
    """One line of displayable text (``papercore.text.clean_text``: the one cleaner), its LaTeX
    made readable (``papercore.latex.readable``): every surface that shows a paper's text (mail,
    subject, preheader, web pages, feed, JSON) passes it through here on the way out."""
    return readable(clean_text(text))


@lru_cache(maxsize=65536)
def clean_phrase(text: str) -> str:
    """``clean`` for short texts that recur from message to message (topics, reasons),
    remembered."""
    return clean(text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


@lru_cache(maxsize=65536)
def wrap(text: str, width: int = WIDTH, indent: int = 0, first: int | None = None) -> str:
    """``text`` wrapped to ``width`` columns; continuation lines are indented by ``indent``
    spaces; the first line starts at column ``first`` (default ``indent``) and is not indented
    (the caller already placed it). Words longer than a line (URLs) are never broken."""
    start = indent if first is None else first
    if start + len(text) <= width:
        return text
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent="x" * start,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines)[start:]
