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
# A contribution is said when a subject ("we", "this paper") is followed within 60 characters of
# the same sentence by a verb of contribution. Found as two flat patterns and paired by position:
# one pattern with a 60-character lazy gap tried at every "we" cost up to 60 steps per word.
_SUBJECT = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|here,? we|our (?:work|paper|approach|method))\b",
    re.IGNORECASE,
)
_VERB = re.compile(
    r"\b(?:propose|present|introduce|develop|design|describe|study|investigate|"
    r"show|demonstrate|release|build|address|explore|formulate|analy[sz]e|tackle)",
    re.IGNORECASE,
)
_CUE_GAP = 60
_RESULT = re.compile(
    r"\b(?:outperform|improv|achiev|surpass|reduc|state[- ]of[- ]the[- ]art|"
    r"results? (?:show|demonstrate|indicate)|experiments? (?:show|demonstrate)|"
    r"speed-?up|faster|fewer|better|accuracy|gains?)\w*",
    re.IGNORECASE,
)
_MIN_SENTENCE = 25  # shorter pieces are headings or stray fragments ("Abstract.")
# A summary is one or two sentences from the opening of an abstract: only this much is read, so
# the work per paper is bounded whatever a source or a pasted list sends (arXiv caps abstracts
# at 1,920 characters).
SCAN_LIMIT = 6_000
_ABBREVIATION_TAIL = 16  # longer than any abbreviation above, with the boundary before it


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences, abbreviations and initials kept inside their sentence.
    Linear in the length of ``text``: each piece is looked at once."""
    pieces = _BOUNDARY.split(clean(text))
    merged: list[list[str]] = []
    for piece in pieces:
        # the abbreviation test reads only the end of the previous piece (never the whole
        # sentence so far, which made "A. A. A. ..." quadratic)
        if merged and _ABBREVIATION.search(merged[-1][-1], _tail(merged[-1][-1])):
            merged[-1].append(piece)
        else:
            merged.append([piece])
    return [s for s in (" ".join(parts).strip() for parts in merged) if s]


def _tail(piece: str) -> int:
    return max(0, len(piece) - _ABBREVIATION_TAIL)


def _opening(abstract: str) -> str:
    """The first SCAN_LIMIT characters of ``abstract``, ended at the last sentence boundary
    within them (a sentence cut in half is never a summary)."""
    if len(abstract) <= SCAN_LIMIT:
        return abstract
    head = abstract[:SCAN_LIMIT]
    ends = [m.start() for m in _BOUNDARY.finditer(head)]
    return head[: ends[-1]] if ends else head


def _states_contribution(sentence: str) -> bool:
    """Whether a subject cue is followed, within _CUE_GAP characters and no full stop, by a
    verb cue. Linear: each cue list is found once and the two are walked together."""
    verbs = [m.start() for m in _VERB.finditer(sentence)]
    if not verbs:
        return False
    stops = [i for i, ch in enumerate(sentence) if ch == "."] if "." in sentence else []
    v = s = 0
    for subject in _SUBJECT.finditer(sentence):
        end = subject.end()
        while v < len(verbs) and verbs[v] < end:
            v += 1
        if v == len(verbs):
            return False
        while s < len(stops) and stops[s] < end:
            s += 1
        first_stop = stops[s] if s < len(stops) else len(sentence)
        if verbs[v] - end <= _CUE_GAP and verbs[v] <= first_stop:
            return True
    return False


def _score(index: int, sentence: str) -> float:
    """How well a sentence says what the paper does: a contribution cue counts most, a result
    cue next; the opening sentence gets a small lift (it is often the thesis)."""
    score = 0.0
    if _states_contribution(sentence):
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
    found = sentences(_opening(abstract or ""))
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
