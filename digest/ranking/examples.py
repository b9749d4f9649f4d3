"""Learning from examples: papers a subscriber marked "more like this" (+1) or "less" (-1).

Each example paper is compared with every paper of the pool, in the lexical space (cosine of
their BM25 term vectors) and, with the semantic ranker, in the embedding space; a fixed band per
space maps the cosine onto [0, 1]. Examples decay: one counts ``0.5 ** (age / half_life)``.

- Likes: a paper's ``lift`` is its similarity to the liked papers (``LIKE_NEAREST`` of it from
  the nearest one, the rest from their decayed mean: Rocchio's centroid). Relevance becomes
  ``(1 - share) x topics + share x lift``, where ``share`` grows with the number of (decayed)
  likes and never exceeds ``LIKE_SHARE_MAX``: no amount of clicking takes more than that share,
  and every value stays in [0, 1]. (Measured on the tune profiles against "only ever lift above
  the topics" and a noisy-or: the blend gained most, benchmarks/feedback_quality.py.)
- Dislikes scale relevance down by at most ``DISLIKE_MAX`` x the similarity to the nearest
  disliked paper: a near-duplicate of a disliked paper sinks, nothing is removed outright.

Typed topics are never removed: the ranker keeps a paper eligible on its topics alone and gives
each typed topic its share of the picks (``facets.share``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from digest.ranking.lexical import LexicalIndex
from digest.ranking.semantic import SemanticIndex
from digest.ranking.text import paper_fields
from papercore.papers import Paper
from subscribers.model import Example

LEXICAL_SHARE = 0.4  # as for topics: the lexical part of a fused similarity
# Paper-to-paper cosines mapped onto [0, 1]: LOW is the median cosine of two sample papers
# (unrelated), HIGH their 99.5th percentile (as alike as two papers on one narrow subject).
LEXICAL_BAND = (0.045, 0.14)
SEMANTIC_BAND = (0.11, 0.50)
LIKE_NEAREST = 0.5  # share of the lift from the nearest liked paper (the rest: the centroid)
LIKE_SHARE_MAX = 0.5  # likes never decide more than this share of relevance
LIKES_HALF = 2.0  # (decayed) likes at which they reach half of LIKE_SHARE_MAX
DISLIKE_MAX = 0.5  # a disliked near-duplicate keeps at least half its relevance
COLUMN_CACHE_FLOATS = 20_000_000  # similarity columns kept (pool size x columns)
POOL_MATRIX_MAX = 4000  # up to this many papers, pool-to-pool similarity is computed at once


@dataclass(frozen=True, slots=True)
class RankedExample:
    """An example with its paper, as the ranker needs it (the caller fetches the paper: examples
    are often older than the pool)."""

    paper: Paper
    vote: int  # +1 more like this, -1 less
    at: datetime


@dataclass(frozen=True, slots=True)
class Learned:
    """What a subscriber's examples do to every paper of the pool."""

    lift: np.ndarray  # similarity to the liked papers, [0, 1]
    share: float  # how much of relevance the lift may take, [0, LIKE_SHARE_MAX]
    drop: np.ndarray  # share of relevance taken away by dislikes, [0, DISLIKE_MAX]
    nearest: np.ndarray  # per paper, the position in ``liked`` of the most similar liked paper
    liked: tuple[Paper, ...]

    def apply(self, topical: np.ndarray) -> np.ndarray:
        """Relevance after the examples, from the typed topics' relevance."""
        blended = (1.0 - self.share) * topical + self.share * self.lift
        return np.clip(blended * (1.0 - self.drop), 0.0, 1.0).astype(np.float32)


def latest(examples: Sequence[RankedExample]) -> list[RankedExample]:
    """One example per paper, the most recent vote (a later "less" undoes a "more")."""
    found: dict[str, RankedExample] = {}
    for example in sorted(examples, key=lambda e: e.at.timestamp()):
        if example.vote in (1, -1):
            found[example.paper.id] = example
    return list(found.values())


class ExampleSpace:
    """Similarity of the pool's papers to example papers, one cached column per example paper
    (examples repeat across subscribers and across the send loop's pages)."""

    def __init__(
        self,
        papers: Sequence[Paper],
        lexical: LexicalIndex,
        vectors: sp.csr_matrix,
        semantic: SemanticIndex | None,
    ) -> None:
        self.lexical = lexical
        self.vectors = vectors  # unit term vectors of the pool, one row per paper
        self.semantic = semantic
        self.papers = tuple(papers)
        self._row = {p.id: k for k, p in enumerate(papers)}
        self._pool: np.ndarray | None = None  # pool x pool, computed on the first example
        self._columns: dict[str, np.ndarray] = {}  # papers outside the pool
        self._cache_max = max(100, COLUMN_CACHE_FLOATS // max(len(papers), 1))

    def prepare(self, papers: Sequence[Paper]) -> None:
        """Compute the similarities of these example papers not known yet, in one batch (the
        builder calls it for a page of subscribers: one product instead of one per person)."""
        if self._pool is None and len(self.papers) <= POOL_MATRIX_MAX and papers:
            # examples are mostly recent papers: one product serves every subscriber
            # (the matrix is symmetric: row k is pool paper k's similarity to every paper)
            self._pool = self._compute(self.papers).T.copy()
        missing = [
            p
            for p in dict.fromkeys(papers)
            if p.id not in self._columns and (self._pool is None or p.id not in self._row)
        ]
        if missing:
            if len(self._columns) + len(missing) > self._cache_max:
                self._columns.clear()
            computed = self._compute(missing)
            for k, paper in enumerate(missing):
                self._columns[paper.id] = computed[:, k].copy()

    def rows(self, papers: Sequence[Paper]) -> np.ndarray:
        """``papers`` x pool papers: similarity in [0, 1]."""
        if not papers:
            return np.zeros((0, len(self.papers)), dtype=np.float32)
        self.prepare(papers)
        pool, row = self._pool, self._row
        return np.array(
            [
                pool[row[p.id]] if pool is not None and p.id in row else self._columns[p.id]
                for p in papers
            ]
        )

    def _compute(self, papers: Sequence[Paper]) -> np.ndarray:
        queries = sp.vstack(
            [
                self.vectors[self._row[p.id]]
                if p.id in self._row
                else self.lexical.term_vector(*paper_fields(p))
                for p in papers
            ]
        )
        cosine = np.asarray((self.vectors @ queries.T).toarray(), dtype=np.float32)
        similarity = _band(cosine, LEXICAL_BAND)
        if self.semantic is not None:
            dense = _band(self.semantic.paper_similarity(papers), SEMANTIC_BAND)
            similarity = LEXICAL_SHARE * similarity + (1 - LEXICAL_SHARE) * dense
        return similarity.astype(np.float32)

    def learn(
        self, examples: Sequence[RankedExample], now: datetime, half_life_days: float
    ) -> Learned | None:
        """What the examples do to the pool (None when there are none)."""
        kept = latest(examples)
        if not kept:
            return None
        ages = (now.timestamp() - np.array([e.at.timestamp() for e in kept])) / 86_400
        weights = np.power(0.5, np.maximum(ages, 0.0) / half_life_days).astype(np.float32)
        similar = self.rows([e.paper for e in kept])
        n = similar.shape[1]
        liked = np.array([e.vote > 0 for e in kept], dtype=bool)
        lift = np.zeros(n, dtype=np.float32)
        nearest = np.full(n, -1, dtype=np.int64)
        share = 0.0
        if liked.any():
            alike = similar[liked] * weights[liked][:, None]
            nearest = np.argmax(alike, axis=0)
            count = float(weights[liked].sum())
            centroid = alike.sum(axis=0) / max(count, 1e-9)
            lift = LIKE_NEAREST * alike.max(axis=0) + (1 - LIKE_NEAREST) * centroid
            share = LIKE_SHARE_MAX * count / (count + LIKES_HALF)
        drop = np.zeros(n, dtype=np.float32)
        if (~liked).any():
            drop = DISLIKE_MAX * (similar[~liked] * weights[~liked][:, None]).max(axis=0)
        return Learned(
            np.clip(lift, 0.0, 1.0).astype(np.float32),
            share,
            np.clip(drop, 0.0, DISLIKE_MAX).astype(np.float32),
            nearest,
            tuple(e.paper for e, good in zip(kept, liked, strict=True) if good),
        )


def _band(cosine: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    low, high = band
    return np.clip((cosine - low) / (high - low), 0.0, 1.0).astype(np.float32)


def ranked_examples(
    examples: Sequence[Example], papers: Mapping[str, Paper]
) -> list[RankedExample]:
    """A subscriber's examples with their papers (examples whose paper is gone are skipped). A
    private example (a seed in no store) is a paper of its own text, learned from alike in the
    lexical and the semantic space."""
    found = []
    for e in examples:
        if e.seed is not None:
            found.append(RankedExample(private_paper(e), e.vote, e.at))
        elif e.paper_id in papers:
            found.append(RankedExample(papers[e.paper_id], e.vote, e.at))
    return found


def private_paper(example: Example) -> Paper:
    """The paper a private example stands for: its id (``seed:<n>``) and the list's text."""
    seed = example.seed
    assert seed is not None
    return Paper(example.paper_id, seed.title, seed.abstract, authors=seed.authors)
