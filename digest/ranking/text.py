"""Turning titles, abstracts and interest phrases into stemmed terms (bm25s + Snowball)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from papercore.latex import readable
from papercore.papers import Paper, title_key

_STEMMER = Stemmer.Stemmer("english")
# The most of any one text that is tokenised: a long abstract says what it is about in its first
# pages, and a bound keeps the work per paper bounded whatever a source or a pasted list sends.
TEXT_LIMIT = 20_000
_STOPWORDS = frozenset(STOPWORDS_EN)
_WORD = re.compile(r"(?u)\b\w\w+\b").findall  # bm25s's default token pattern
# Words people put around a topic that say nothing about it ("papers about X", "I like Y").
_FILLER = frozenset(
    _STEMMER.stemWords(
        [
            *("paper", "papers", "about", "like", "interested", "interest", "work", "research"),
            *("studies", "study", "new", "recent", "using", "use", "used", "via", "based"),
            *("toward", "towards", "approach", "approaches", "method", "methods"),
        ]
    )
)


def tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed words of each text (its first TEXT_LIMIT characters),
    in order, LaTeX read as text (``\\emph{x}`` gives "x", never "emph"): bm25s's word pattern
    and English stop words with the Snowball stemmer, without bm25s's batch machinery (which
    costs more than the work for one short topic)."""
    found = []
    for text in texts:
        words = [
            w for w in _WORD(_fold(readable(text[:TEXT_LIMIT])).lower()) if w not in _STOPWORDS
        ]
        found.append(_STEMMER.stemWords(words))
    return found


@lru_cache(maxsize=65_536)
def query_tokens(phrase: str) -> tuple[str, ...]:
    """The terms of an interest phrase, without filler words ("papers about")."""
    words = tokens([phrase])[0]
    kept = [w for w in words if w not in _FILLER]
    return tuple(kept or words)


def bigrams(words: Sequence[str]) -> list[str]:
    """Adjacent word pairs, the phrase terms of the index ("wireless network")."""
    return [f"{a} {b}" for a, b in itertools.pairwise(words)]


def paper_fields(paper: Paper) -> tuple[str, str]:
    """The text the lexical ranker reads: title, and abstract (else the AI summary)."""
    return paper.title, paper.abstract or paper.ai_summary or ""


def normalised(text: str) -> str:
    """Text folded like titles are for matching (accents, case and punctuation dropped)."""
    return title_key(text)


def _fold(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
