"""LaTeX in a paper's text, made readable (issue 24): the one converter, used on the way out.

The store keeps a paper's title and abstract as its source gave them; everything that shows
them (mail, web pages, the feed, the JSON) and the ranker's tokeniser pass them through
``readable``. pylatexenc's ``latex2text`` does the work; this module adds what it leaves as
typed: super- and subscripts in math (``x^2`` → x², ``x_i`` → xᵢ when Unicode has the glyph,
else ``x^(n+1)``), dollar signs that are prices rather than math, and a bound on the work.
"""

from __future__ import annotations

import itertools
import logging
import re
from functools import lru_cache
from typing import Any

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from papercore.text import clean_text

log = logging.getLogger(__name__)
logging.getLogger("pylatexenc").setLevel(logging.ERROR)  # its warnings are about bad input

# The most of one text that is converted: a longer text's remainder only has its commands
# stripped (latex2text takes ~1 ms per KB; the summariser has 50 ms for 100 KB).
CONVERT_LIMIT = 10_000
_CACHED = 4_000  # texts up to this long are remembered (titles, abstracts)

# Pandoc's rule for inline math: "$" opens when followed by a non-space, closes when preceded
# by a non-space and not followed by a digit. "$5 and $10" is prose; "$x^2$" is math.
_MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?=[^\s$])(?P<inline>(?:\\.|[^$\\])*?(?:\\.|[^\s\\$]))\$(?!\d)",
    re.DOTALL,
)
_DOLLAR = re.compile(r"(?<!\\)\$")
# Characters LaTeX reads as markup (a comment, an alignment tab, a parameter) that prose uses
# as text: "a 50% gain" must not lose the rest of the abstract to a comment.
_PROSE_SPECIAL = re.compile(r"(?<!\\)([%&#])")
_COMMAND = re.compile(r"\\(?:[A-Za-z]+\*?|.)")
_LEFTOVER_COMMAND = re.compile(r"\\[A-Za-z]+")
_BEFORE_PUNCTUATION = re.compile(r" +([.,;:])(?!\d)")  # where a dropped citation stood

# Citations and cross-references point at text the reader does not have.
_DROPPED = ("cite", "citep", "citet", "citealp", "ref", "eqref", "label", "footnote")
# Commands latex2text does not know that only change how text looks (style, size, spacing,
# delimiter size) or only wrap their argument: dropped, their argument read as text. Any other
# command it does not know is a paper's own macro ("\\tool") and reads as its name.
_LOOKS = (
    *("em", "it", "bf", "rm", "sf", "tt", "sc", "sl", "sffamily", "bfseries", "itshape"),
    *("tiny", "scriptsize", "footnotesize", "small", "normalsize", "large", "Large", "huge"),
    *("Huge", "displaystyle", "textstyle", "scriptstyle", "left", "right", "middle", "big"),
    *("Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "limits"),
    *("nolimits", "nonumber", "noindent", "xspace", "operatorname", "boldsymbol", "bm"),
    *("textnormal", "hbox", "mbox", "ensuremath", "protect", "relax", "centering"),
)

_SUPERSCRIPT = dict(
    zip(
        "0123456789+-=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
_SUPERSCRIPT.update({"*": "*", "′": "′", "−": "⁻", "T": "ᵀ"})
_SUBSCRIPT = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SUBSCRIPT["−"] = "₋"


def _script(marker: str, text: str) -> str:
    """``text`` raised (``^``) or lowered (``_``) with Unicode glyphs when every character has
    one, else kept legible: ``^2`` → ², ``_{CE}`` → _CE, ``^{n+1}`` with no glyph → ^(n+1)."""
    text = text.strip()
    if not text:
        return ""
    glyphs = _SUPERSCRIPT if marker == "^" else _SUBSCRIPT
    if all(ch in glyphs for ch in text):
        return "".join(glyphs[ch] for ch in text)
    return f"{marker}{text}" if len(text) == 1 or text.isalnum() else f"{marker}({text})"


class _Converter(LatexNodes2Text):
    """latex2text, with super- and subscripts in math written as Unicode."""

    def __init__(self) -> None:
        context = get_default_latex_context_db()
        context.add_context_category(
            "paper-digest",
            prepend=True,
            macros=[
                *(MacroTextSpec(name, simplify_repl="") for name in (*_DROPPED, *_LOOKS)),
                MacroTextSpec("arg", simplify_repl="arg"),
                MacroTextSpec("url", simplify_repl="%(1)s"),
                MacroTextSpec("href", simplify_repl="%(2)s"),
                MacroTextSpec("|", simplify_repl="‖"),
            ],
        )
        super().__init__(context, math_mode="text")
        self._in_math = 0

    def _unknown(self, node: Any) -> bool:
        return bool(
            node is not None
            and node.isNodeType(latexwalker.LatexMacroNode)
            and self.latex_context.get_macro_spec(node.macroname) is None
        )

    def _mark_wrappers(self, nodelist: Any) -> None:
        """Mark each unknown macro followed by a group with text (``\\colorblue{...}``) as a
        wrapper, which is dropped (its group is read); ``\\tool`` or ``\\tool{}`` is not."""
        for node, following in itertools.pairwise(nodelist or []):
            if self._unknown(node) and following is not None:
                node.wraps = following.isNodeType(latexwalker.LatexGroupNode) and bool(
                    following.nodelist
                )

    def macro_node_to_text(self, node: Any) -> str:
        """A macro the converter does not know (a paper's own ``\\tool``) reads as its name,
        unless it wraps a group."""
        if self._unknown(node):
            return "" if getattr(node, "wraps", False) else str(node.macroname)
        return str(super().macro_node_to_text(node))

    def math_node_to_text(self, node: Any) -> str:
        self._in_math += 1
        try:
            return str(super().math_node_to_text(node))
        finally:
            self._in_math -= 1

    def nodelist_to_text(self, nodelist: Any) -> str:
        self._mark_wrappers(nodelist)
        if not self._in_math:
            return str(super().nodelist_to_text(nodelist))
        out: list[str] = []
        marker = ""
        previous: Any = None
        for node in nodelist or []:
            if node is None:
                continue
            if node.isNodeType(latexwalker.LatexCharsNode):
                if self._is_bare_macro_node(previous):  # "\\log n" keeps its space
                    out.append(previous.macro_post_space)
                previous = node
                for ch in node.chars:
                    if marker:
                        out.append(_script(marker, ch))
                        marker = ""
                    elif ch in "^_":
                        marker = ch
                    else:
                        out.append(ch)
                continue
            previous = node
            text = str(self.node_to_text(node))
            if marker:
                out.append(_script(marker, text))
                marker = ""
            else:
                out.append(text)
        return "".join(out)


@lru_cache(maxsize=1)
def _converter() -> _Converter:
    return _Converter()


def _has_latex(text: str) -> bool:
    """Whether ``text`` may hold LaTeX: a backslash, or a pair of dollars around math."""
    return "\\" in text or ("$" in text and _MATH.search(text) is not None)


def _protect(text: str) -> str:
    """``text`` with every "$" that does not delimit math, and every bare "%", "&" and "#",
    escaped, so that each stays the character it is."""
    text = _PROSE_SPECIAL.sub(r"\\\1", text)
    kept: list[str] = []
    end = 0
    for math in _MATH.finditer(text):
        kept.append(_DOLLAR.sub(r"\\$", text[end : math.start()]))
        kept.append(math.group(0))
        end = math.end()
    kept.append(_DOLLAR.sub(r"\\$", text[end:]))
    return "".join(kept)


def _symbol(command: re.Match[str]) -> str:
    """A command's replacement when stripping: an escaped symbol (``\\%``) is kept."""
    name = command.group(0)[1:]
    return name if len(name) == 1 and not name.isalpha() else ""


def _stripped(text: str) -> str:
    """The fallback: commands and math dollars removed, braces dropped."""
    text = _MATH.sub(lambda m: m.group("display") or m.group("inline"), text)
    text = _COMMAND.sub(_symbol, text)
    return clean_text(text.replace("{", "").replace("}", ""))


def _convert(text: str) -> str:
    try:
        converted = str(_converter().latex_to_text(_protect(text)))
    except Exception:  # any converter failure (RecursionError too) falls back to stripping
        log.debug("latex2text failed; stripping commands", exc_info=True)
        return _stripped(text)
    if "%s" in converted and "%s" not in text:  # a macro short of its arguments
        return _stripped(text)
    if _LEFTOVER_COMMAND.search(converted):  # a verbatim or unknown construct passed through
        converted = _LEFTOVER_COMMAND.sub("", converted)
    return _BEFORE_PUNCTUATION.sub(r"\1", clean_text(converted))


@lru_cache(maxsize=4_096)  # at most ~4 000 x 4 000 characters of keys: bounded memory
def _cached(text: str) -> str:
    return _convert(text)


def readable(text: str) -> str:
    """``text`` with its LaTeX made readable: commands rendered (``\\emph{x}`` → x, ``\\%`` →
    %, ``na\\"{\\i}ve`` → naïve, unknown macros such as ``\\tool`` dropped), inline math as
    Unicode ($\\alpha$ → α, ``$x^2$`` → x², ``$\\mathcal{L}$`` → ℒ, ``\\frac{a}{b}`` → a/b),
    whitespace collapsed to one line. Text without LaTeX comes back unchanged (the same
    object); a "$" that is a price stays. Never raises."""
    if not text or not _has_latex(text):
        return text
    if len(text) <= _CACHED:
        return _cached(text)
    if len(text) <= CONVERT_LIMIT:
        return _convert(text)
    head = text[:CONVERT_LIMIT]
    cut = head.rfind(" ")
    head, tail = (
        (text[:cut], text[cut:]) if cut > CONVERT_LIMIT // 2 else (head, text[CONVERT_LIMIT:])
    )
    return clean_text(f"{_convert(head)} {_stripped(tail)}")
