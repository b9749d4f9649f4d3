"""Plain-text helpers: cleaning hostile paper text, shortening, and wrapping at 78 columns."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from functools import lru_cache

WIDTH = 78
# Bidirectional embeddings, overrides and isolates can make text render backwards (a title
# ending in U+202E flips what follows); byte-order marks and zero-width joiners hide text.
_INVISIBLE = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0xFEFF, 0x200B],
    None,
)
_SPACE = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """One line of displayable text: control and bidi-override characters removed, Unicode
    composed (NFC), whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) != "Cf" or ch == "\u200d"  # keep emoji joiners
    )
    return _SPACE.sub(" ", text).strip()


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
