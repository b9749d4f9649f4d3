"""An extractive summary: the one or two sentences of an abstract that say what the paper does.

Abstracts usually open with background ("Large language models have shown...") and get to the
point later ("We propose...", "Our method outperforms..."). ``summarise`` picks the sentence
that states the contribution and, when it fits, the one that states a result, in their original
order. Pure and cheap: no model, run once per paper per issue.
"""

from __future__ import annotations

import re

from digest.compose.text import clean, shorten

SUMMARY_LIMIT = 300
# A sentence ends at . ! ? followed by a space and an upper-case letter, digit or opening quote,
# except after common abbreviations and single initials ("e.g.", "et al.", "J. Smith").
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|approx|resp|No|Dr|Prof)\.|"
    r"\b[A-Z]\.)$"
)
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|here,? we|our (?:work|paper|approach|method))\b"
    r"[^.]{0,60}?\b(?:propose|present|introduce|develop|design|describe|study|investigate|"
    r"show|demonstrate|release|build|address|explore|formulate|analy[sz]e|tackle)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform|improv|achiev|surpass|reduc|state[- ]of[- ]the[- ]art|"
    r"results? (?:show|demonstrate|indicate)|experiments? (?:show|demonstrate)|"
    r"speed-?up|faster|fewer|better|accuracy|gains?)\w*",
    re.IGNORECASE,
)
_MIN_SENTENCE = 25  # shorter pieces are headings or stray fragments ("Abstract.")


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences, abbreviations and initials kept inside their sentence."""
    pieces = _BOUNDARY.split(clean(text))
    merged: list[str] = []
    for piece in pieces:
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return [s for s in (p.strip() for p in merged) if s]


def _score(index: int, sentence: str) -> float:
    """How well a sentence says what the paper does: a contribution cue counts most, a result
    cue next; the opening sentence gets a small lift (it is often the thesis)."""
    score = 0.0
    if _CONTRIBUTION.search(sentence):
        score += 3.0
    if _RESULT.search(sentence):
        score += 1.5
    if index == 0:
        score += 0.5
    if len(sentence) < _MIN_SENTENCE:
        score -= 5.0
    return score - index * 0.05  # earlier wins a tie


def summarise(abstract: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """One or two sentences of ``abstract``, verbatim and in order, at most ``limit``
    characters (a single over-long sentence is cut at a word with an ellipsis). The empty
    string for an empty abstract."""
    found = sentences(abstract or "")
    if not found:
        return ""
    ranked = sorted(range(len(found)), key=lambda i: -_score(i, found[i]))
    first = ranked[0]
    if len(found[first]) >= limit:
        return shorten(found[first], limit)
    chosen = [first]
    # A second sentence: the best-scoring one after the first that still fits, preferring a
    # result; else the sentence that follows (it usually continues the thought).
    for index in ranked[1:]:
        if index <= first or len(found[first]) + 1 + len(found[index]) > limit:
            continue
        if _score(index, found[index]) > 0 or index == first + 1:
            chosen.append(index)
            break
    return " ".join(found[i] for i in sorted(chosen))
