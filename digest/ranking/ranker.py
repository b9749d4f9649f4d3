"""The ranker: built once per issue over its candidate papers, asked once per subscriber.

A subscriber's relevance to a paper is the best of their topics' relevances (each topic scored
on its own, scaled by its weight, so five topics are not dominated by one); negative weights
("less like this") subtract. Relevance below ``relevance_floor`` keeps a paper out however popular
it is, unless it is by a followed author. Trending (upvotes, comments, recency) is added by its
configured weights, muted phrases and already-delivered papers are removed, and MMR keeps
near-duplicates from filling the top.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

import numpy as np

from digest.config import RankingSettings
from digest.papers import Paper
from digest.ranking.diversity import mmr, redundancy
from digest.ranking.lexical import LexicalIndex
from digest.ranking.semantic import (
    EmbeddingStore,
    Encoder,
    SemanticIndex,
    load_encoder,
)
from digest.ranking.text import normalised, paper_fields, phrase_pattern
from digest.ranking.trending import Trending, trending, trending_reason
from subscribers.model import Interest

LEXICAL_SHARE = 0.4  # weight of the lexical score when fused with the semantic one
OTHER_TOPICS = 0.1  # how much a paper's second, third... matching topics add to the best one
AUTHOR_BOOST = 0.5  # added to the score of a paper by a followed author
POOL = 5  # MMR looks at this many candidates per pick
DENSE_SIMILARITY_MAX = 4000  # above this many papers, similarities are computed per request
TOPIC_CACHE_MAX = 200_000
MAX_REASONS = 2


@dataclass(frozen=True)
class Pick:
    paper: Paper
    score: float  # final blended score, higher is better
    relevance: float  # topical relevance alone (0 for the trending digest)
    why: tuple[str, ...]  # ("matches: graph neural networks", "trending: 120 upvotes", ...)


class _Default:
    pass


DEFAULT: Final = _Default()


@lru_cache(maxsize=2)
def _shared_encoder(mode: str) -> Encoder | None:
    return load_encoder(mode)  # type: ignore[arg-type]


def build_ranker(
    papers: Sequence[Paper],
    settings: RankingSettings,
    *,
    embeddings_cache: EmbeddingStore | None = None,
    encoder: Encoder | _Default | None = DEFAULT,
) -> Ranker:
    """Index the candidate papers once. With ``ranking.semantic`` on (or auto and installed)
    paper embeddings are read from ``embeddings_cache`` and only missing ones are computed.
    Pass ``encoder=None`` for the lexical ranker whatever the setting."""
    chosen = _shared_encoder(settings.semantic) if isinstance(encoder, _Default) else encoder
    semantic = SemanticIndex(papers, chosen, embeddings_cache) if chosen is not None else None
    return Ranker(papers, settings, semantic)


class Ranker:
    def __init__(
        self,
        papers: Sequence[Paper],
        settings: RankingSettings,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.papers = tuple(papers)
        self.settings = settings
        self.semantic = semantic
        self.lexical = LexicalIndex([paper_fields(p) for p in self.papers])
        self._position = {p.id: i for i, p in enumerate(self.papers)}
        self._vectors = self.lexical.term_vectors()
        self._similarity = (
            redundancy((self._vectors @ self._vectors.T).toarray())
            if len(self.papers) <= DENSE_SIMILARITY_MAX
            else None
        )
        self._topics: dict[str, np.ndarray] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._trending: tuple[datetime, Trending] | None = None
        self._texts: list[str] | None = None
        self._authors = [[set(normalised(a).split()) for a in p.authors] for p in self.papers]

    @property
    def is_semantic(self) -> bool:
        return self.semantic is not None

    def topic_relevance(self, phrase: str) -> np.ndarray:
        """Relevance in [0, 1] of every paper to one topic (cached: topics repeat)."""
        found = self._topics.get(phrase)
        if found is None:
            found = self.lexical.match(phrase).relevance
            if self.semantic is not None:
                fused = LEXICAL_SHARE * found + (1 - LEXICAL_SHARE) * self.semantic.match(phrase)
                found = fused.astype(np.float32)
            if len(self._topics) >= TOPIC_CACHE_MAX:
                self._topics.clear()
            self._topics[phrase] = found
        return found

    def rank(
        self,
        interests: Sequence[Interest],
        *,
        exclude: Collection[str] = (),
        limit: int = 10,
        now: datetime,
    ) -> list[Pick]:
        """The best ``limit`` papers for these interests, best first, none of ``exclude``."""
        n = len(self.papers)
        if n == 0 or limit <= 0:
            return []
        topics = [(i.phrase, i.weight) for i in interests if i.kind == "topic" and i.weight]
        authors = [i.phrase for i in interests if i.kind == "author"]
        mutes = [i.phrase for i in interests if i.kind == "mute"]
        if self.semantic is not None:
            self.semantic.prepare(p for p, _ in topics)
        trend = self._trend(now)
        followed = self._followed(authors) if authors else None
        if topics:
            relevance = self._relevance(topics)
            eligible = relevance >= self.settings.relevance_floor
            score = self.settings.relevance_weight * relevance + trend.score
        else:
            relevance = np.zeros(n, dtype=np.float32)
            eligible = np.ones(n, dtype=bool)
            score = trend.score.copy()
        if followed is not None:
            eligible = eligible | followed
            score = score + AUTHOR_BOOST * followed
        if mutes:
            eligible = eligible & ~self._muted(mutes)
        if exclude:
            gone = [self._position[i] for i in exclude if i in self._position]
            if gone:
                eligible = eligible.copy()
                eligible[gone] = False
        candidates = np.flatnonzero(eligible)
        pool = min(len(candidates), limit * POOL)
        if pool < len(candidates):
            candidates = candidates[np.argpartition(-score[candidates], pool - 1)[:pool]]
        order = mmr(
            score[candidates], self._pair_similarity(candidates), limit, self.settings.diversity
        )
        return [
            self._pick(int(candidates[k]), float(score[candidates[k]]), topics, relevance, followed)
            for k in order
        ]

    def _relevance(self, topics: Sequence[tuple[str, float]]) -> np.ndarray:
        if len(topics) == 1 and topics[0][1] == 1.0:
            return self.topic_relevance(topics[0][0])
        liked = [self.topic_relevance(p) * w for p, w in topics if w > 0]
        disliked = [self.topic_relevance(p) * -w for p, w in topics if w < 0]
        relevance: np.ndarray = np.zeros(len(self.papers), dtype=np.float32)
        if liked:
            stack = np.vstack(liked)
            best = stack.max(axis=0)
            relevance = best + OTHER_TOPICS * (stack.sum(axis=0) - best)
        for penalty in disliked:
            relevance = relevance - penalty
        return np.clip(relevance, 0.0, 1.0)

    def _trend(self, now: datetime) -> Trending:
        if self._trending is None or self._trending[0] != now:
            self._trending = (now, trending(self.papers, self.settings, now))
        return self._trending[1]

    def _followed(self, authors: Sequence[str]) -> np.ndarray:
        """Papers with an author whose name contains every word of a followed name."""
        key = ("author", "\n".join(sorted(authors)))
        mask = self._masks.get(key)
        if mask is None:
            wanted = [set(normalised(a).split()) for a in authors if normalised(a)]
            mask = np.array(
                [any(w <= names for w in wanted for names in paper) for paper in self._authors],
                dtype=bool,
            )
            self._masks[key] = mask
        return mask

    def _muted(self, mutes: Sequence[str]) -> np.ndarray:
        key = ("mute", "\n".join(sorted(mutes)))
        mask = self._masks.get(key)
        if mask is None:
            if self._texts is None:
                self._texts = [normalised(" ".join(paper_fields(p))) for p in self.papers]
            patterns = [phrase_pattern(m) for m in mutes if normalised(m)]
            mask = np.array(
                [any(p.search(text) for p in patterns) for text in self._texts], dtype=bool
            )
            self._masks[key] = mask
        return mask

    def _pair_similarity(self, rows: np.ndarray) -> np.ndarray:
        if self._similarity is not None:
            return self._similarity[np.ix_(rows, rows)]
        chosen = self._vectors[rows]
        return redundancy((chosen @ chosen.T).toarray())

    def _pick(
        self,
        row: int,
        score: float,
        topics: Sequence[tuple[str, float]],
        relevance: np.ndarray,
        followed: np.ndarray | None,
    ) -> Pick:
        paper = self.papers[row]
        why: list[str] = []
        matched = sorted(
            ((self.topic_relevance(p)[row] * w, p) for p, w in topics if w > 0),
            reverse=True,
        )
        names = [p for r, p in matched if r >= self.settings.relevance_floor][:MAX_REASONS]
        if names:
            why.append("matches: " + ", ".join(names))
        if followed is not None and followed[row]:
            why.append("by an author you follow")
        reason = trending_reason(paper)
        if reason:
            why.append(reason)
        if not why:
            when = paper.posted_at or paper.first_seen
            why.append(f"new: listed {when:%b %d}" if when else "new in this issue")
        return Pick(paper, round(score, 6), float(relevance[row]), tuple(why))
