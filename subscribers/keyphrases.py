"""Key phrases of papers: topic suggestions (signup and preferences pages), and whether a paper
says a phrase.

A phrase is two adjacent words of a title or abstract, neither a stop word, each at least three
letters long ("diffusion models", "graph neural" ...). Pure functions of text; no model needed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise

from papercore.papers import Paper

WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")
_STOP_WORDS = """
a about above across after against all almost also although among an and any are as at
be because been before being below between both but by can could did do does doing down
during each either few for from further had has have having here how however if in into is
it its itself just large less made make makes many may more most much must new no nor not
novel now of off on once only or other our out over own paper per present propose proposed
proposes rather same several should show shows simple so some such than that the their them
then there these they this those through thus to too towards toward under until up upon us
use used uses using very via was we well were what when where which while who whom why will
with within without would yet you your based approach approaches method methods results
study work beat beats outperform outperforms improve improves improving achieve achieves
existing different first one two three learn learning extensive experiments experimental
experiment significant significantly recent recently various art state-of-the-art
"""
STOP = frozenset(_STOP_WORDS.split())
# The most of a title and of an abstract that is read: key phrases come from the opening, and a
# bound keeps the work per paper bounded whatever a source or a pasted list sends.
TITLE_LIMIT = 1_000
TEXT_LIMIT = 20_000


def _title(paper: Paper) -> str:
    return paper.title[:TITLE_LIMIT]


def _abstract(paper: Paper) -> str:
    return (paper.abstract or "")[:TEXT_LIMIT]


def _words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def _pairs(text: str) -> list[str]:
    """Adjacent word pairs that do not cross punctuation and contain no stop word."""
    found: list[str] = []
    for chunk in re.split(r"[.,;:!?()\[\]{}\"'/]|\s-\s|\s–\s|\s—\s", text):
        words = _words(chunk)
        for first, second in pairwise(words):
            if first in STOP or second in STOP or len(first) < 3 or len(second) < 3:
                continue
            found.append(f"{first} {second}")
    return found


def _runs(text: str, long_runs: bool = True) -> list[str]:
    """Runs of two or three content words (longer runs give their word pairs)."""
    found: list[str] = []
    for chunk in re.split(r"[.,;:!?()\[\]{}\"'/]|\s-\s|\s–\s|\s—\s", text):
        run: list[str] = []
        for word in [*_words(chunk), ""]:
            if word and word not in STOP and len(word) >= 3:
                run.append(word)
                continue
            if 2 <= len(run) <= 3:
                found.append(" ".join(run))
            elif len(run) > 3 and long_runs:
                found.extend(f"{a} {b}" for a, b in pairwise(run))
            run = []
    return found


def paper_phrases(paper: Paper, limit: int = 3) -> list[str]:
    """The paper's key phrases, best first: runs of content words in the title, ranked by how
    often the abstract uses them (then by position in the title)."""
    title = list(dict.fromkeys(_runs(_title(paper))))
    abstract = " ".join(_words(_abstract(paper)))
    ranked = sorted(enumerate(title), key=lambda item: (-abstract.count(item[1]), item[0]))
    return [phrase for _, phrase in ranked[:limit]]


# Phrases that name no research topic: benchmarks' vocabulary and the words of any abstract.
_GENERIC = """
    task tasks downstream accuracy top-1 top-5 performance benchmark benchmarks baseline baselines
    dataset datasets framework frameworks model-based code available publicly open-source results
    evaluation evaluations setting settings problem problems real-world
    wide range variety number extensive comprehensive experiment effectiveness efficiency
    superior competitive strong robust demonstrate demonstrates demonstrated key challenge
    challenges ability capabilities capability limited high low end-to-end paradigm technique
    techniques process tool tools level fine-grained previous prior cost costs computational
    pre-trained pretrained space
"""
GENERIC_WORDS = frozenset(_GENERIC.split())
GENERIC_PHRASES = frozenset({"training data", "training set", "test set", "test time"})


def _generic(phrase: str) -> bool:
    return phrase in GENERIC_PHRASES or any(
        w in GENERIC_WORDS or w.removesuffix("s") in GENERIC_WORDS for w in phrase.split()
    )


def _key(phrase: str) -> str:
    """One spelling per phrase: plural and singular of every word count as one."""
    return " ".join(w.removesuffix("s") for w in phrase.split())


def _contains(longer: str, shorter: str) -> bool:
    """Whether ``longer`` says ``shorter`` with more words ("deep neural net" ⊃ "neural net")."""
    return longer != shorter and f" {shorter} " in f" {longer} "


def suggest_topics(
    papers: Iterable[Paper], limit: int = 12, *, seen_since: datetime | None = None
) -> list[str]:
    """Up to ``limit`` topics that at least two of ``papers`` share, counted once per paper (only
    papers first seen at or after ``seen_since`` when given: "this week's papers"), most common
    first. A plural and its singular count as one; a phrase that contains or is contained in a
    better-placed one is left out ("deep neural networks" after "neural networks"); phrases
    made of benchmark vocabulary ("downstream tasks", "top-1 accuracy") are never suggested."""
    counts: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    for paper in papers:
        if seen_since is not None and (paper.first_seen is None or paper.first_seen < seen_since):
            continue
        for phrase in set(_runs(f"{_title(paper)}. {_abstract(paper)}", long_runs=False)):
            if _generic(phrase):
                continue
            key = _key(phrase)
            counts[key] += 1
            spelling.setdefault(key, Counter())[phrase] += 1
    chosen: list[str] = []
    # most papers first; on a tie the shorter, broader phrase wins
    for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0].count(" "), item[0])):
        if n < 2 or len(chosen) >= limit:
            break
        if any(_contains(key, c) or _contains(c, key) for c in chosen):
            continue
        chosen.append(key)
    return [spelling[key].most_common(1)[0][0] for key in chosen]


def mentions(paper: Paper, phrase: str) -> bool:
    """Whether the paper's title or abstract contains the phrase (case-insensitive, whole words)."""
    words = " ".join(_words(phrase))
    if not words:
        return False
    text = " ".join(_words(f"{_title(paper)} {_abstract(paper)}"))
    return re.search(rf"(?<![\w-]){re.escape(words)}(?![\w-])", text) is not None
