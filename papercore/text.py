"""Text hygiene: the one place that decides which characters outside text may keep.

Every boundary where text comes in (paper sources and the paper store, seed lists, web forms,
CLI imports) and every place that shows stored text passes it through here, so that no title,
author, abstract or phrase can carry a character that XML 1.0 (the Atom feed), MJML (the
email) or UTF-8 (JSON, mail) cannot: C0/C1 controls, lone surrogates, noncharacters (U+FFFE,
U+FFFF, U+FDD0..U+FDEF, U+nFFFE/U+nFFFF). ``clean_text`` also removes format characters that
hide or reverse text (bidi overrides, zero-width spaces, byte-order marks; the emoji joiner
stays) and makes one line of it. ``clean_block`` is for a whole form field or pasted list before
it is read: it keeps line breaks, and keeps controls for the field's reader to refuse (a control
character in an address or a topic is an attack, and is answered as one).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_ZWJ = 0x200D  # joins emoji sequences; harmless
_ASCII_CONTROLS = dict.fromkeys([*range(0x20), 0x7F], " ")
_NONCHARACTERS = [
    *range(0xFDD0, 0xFDF0),
    *(plane << 16 | low for plane in range(17) for low in (0xFFFE, 0xFFFF)),
]
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")


def is_noncharacter(code: int) -> bool:
    """Unicode's 66 noncharacters: U+FDD0..U+FDEF and the last two code points of each plane."""
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def _ranges(codes: list[int]) -> str:
    """A regex character class body for ``codes`` (sorted), as ranges."""
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        parts.append(
            re.escape(chr(start))
            if start == previous
            else f"{re.escape(chr(start))}-{re.escape(chr(previous))}"
        )
        start = previous = code
    return "".join(parts)


_NONCHARACTER = re.compile(f"[{_ranges(_NONCHARACTERS)}]")


@cache
def _patterns(astral: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(what a line drops, what a line turns into a space), built on first use. Control, format
    and line-separator characters live only in planes 0, 1 and 14 (Unicode 14; a unit test
    checks every plane), so only those are scanned (~20 ms, not ~200). Without ``astral`` the
    classes hold only the Basic Multilingual Plane, which the regex engine tests with a bitmap
    (several times faster), for text that has no character beyond it."""
    drop: list[int] = []
    space: list[int] = []
    for code in [*range(0x20000), *range(0xE0000, 0xE1000)] if astral else range(0x10000):
        category = unicodedata.category(chr(code))
        if category == "Cf" and code != _ZWJ:
            drop.append(code)
        elif category in ("Cc", "Zl", "Zp"):
            space.append(code)
    nonchars = [c for c in _NONCHARACTERS if astral or c < 0x10000]
    return (
        re.compile(f"[{_ranges(sorted(drop + nonchars))}\ud800-\udfff]"),
        re.compile(f"[{_ranges(space)}]"),
    )


def _astral(text: str) -> bool:
    return bool(text) and max(text) > "\uffff"


def _pair_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined into the characters they encode and lone
    surrogates (from a JSON escape, or bytes decoded with surrogateescape) dropped."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def clean_text(text: str | None) -> str:
    """One line of displayable text: noncharacters, lone surrogates and format characters
    (bidi overrides, zero-width spaces; not the emoji joiner) removed, controls and line or
    paragraph separators made spaces, Unicode composed (NFC), whitespace collapsed, stripped.
    Every character of the result is one XML 1.0 allows. Idempotent."""
    if not text:
        return ""
    if text.isascii():  # most text: only controls to turn into spaces
        return " ".join((text if text.isprintable() else text.translate(_ASCII_CONTROLS)).split())
    text = _pair_surrogates(text)
    drop, space = _patterns(_astral(text))
    text = space.sub(" ", drop.sub("", text))
    return " ".join(unicodedata.normalize("NFC", text).split())  # str.split: \s as re has it


def clean_block(text: str | None) -> str:
    """A form field or a pasted list as it is read: lone surrogates and noncharacters removed,
    line ends made "\\n", Unicode composed (NFC). Spaces, line breaks and controls stay: the
    field's reader collapses the first, splits on the second and refuses the third."""
    if not text:
        return ""
    text = _NONCHARACTER.sub("", _pair_surrogates(_NEWLINES.sub("\n", text)))
    return unicodedata.normalize("NFC", text)
