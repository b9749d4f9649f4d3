"""The ranker: built once per issue over its candidate papers, asked once per subscriber.

A subscriber's topics are combined as facets (``facets``): the best topic's relevance, raised
by each further topic a paper matches, less any disliked topic; weights above 1 count as 1, so
nothing saturates. Their examples ("more / less like this" clicks, ``examples``) lift papers
like the liked ones and sink papers like the disliked ones, bounded and decaying with age; a
paper stays eligible on its topics alone and each topic keeps its share of the picks.
Relevance below ``relevance_floor`` keeps a paper out however popular it is, unless it is by a
followed author. Trending (upvotes, comments, recency) lifts relevance by its configured weights
as a share of it (0.15 = up to 15 % for the most upvoted paper), so it orders papers that match
about equally well; with no topics and no likes it is the whole score. Muted phrases and
already-delivered papers are removed, and MMR keeps near-duplicates from filling the top.
Explanations are truthful (``explain``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

import numpy as np

from digest.ranking import facets
from digest.ranking.diversity import mmr, redundancy
from digest.ranking.examples import ExampleSpace, Learned, RankedExample
from digest.ranking.explain import like_reason, topic_reasons
from digest.ranking.lexical import LexicalIndex
from digest.ranking.semantic import (
    EmbeddingStore,
    Encoder,
    Progress,
    SemanticIndex,
    load_encoder,
)
from digest.ranking.text import normalised, paper_fields
from digest.ranking.trending import Trending, trending, trending_reason
from papercore.config import RankingSettings
from papercore.papers import Paper
from subscribers.model import Interest

LEXICAL_SHARE = 0.4  # weight of the lexical score when fused with the semantic one
AUTHOR_BOOST = 0.6  # added for a followed author: above partial matches, below full ones
POOL = 3  # MMR looks at this many candidates per pick
DENSE_SIMILARITY_MAX = 4000  # above this many papers, similarities are computed per request
TOPIC_CACHE_MAX = 200_000


@dataclass(frozen=True, slots=True)
class Pick:
    paper: Paper
    score: float  # final blended score, higher is better
    relevance: float  # topical relevance alone (0 for the trending digest)
    why: tuple[str, ...]  # ("matches: graph neural networks", "trending: 120 upvotes", ...)


class _Default:
    pass


DEFAULT: Final = _Default()


@lru_cache(maxsize=2)
def shared_encoder(mode: str) -> Encoder | None:
    """The encoder ``ranking.semantic`` asks for, loaded once per process."""
    return load_encoder(mode)  # type: ignore[arg-type]


def build_ranker(
    papers: Sequence[Paper],
    settings: RankingSettings,
    *,
    embeddings_cache: EmbeddingStore | None = None,
    encoder: Encoder | _Default | None = DEFAULT,
    on_embed: Progress | None = None,
) -> Ranker:
    """Index the candidate papers once. With ``ranking.semantic`` on (or auto and installed)
    paper embeddings are read from ``embeddings_cache`` and only missing ones are computed
    (reported to ``on_embed``). Pass ``encoder=None`` for the lexical ranker whatever the
    setting."""
    chosen = shared_encoder(settings.semantic) if isinstance(encoder, _Default) else encoder
    semantic = (
        SemanticIndex(papers, chosen, embeddings_cache, on_embed) if chosen is not None else None
    )
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
        self._similarity: np.ndarray | None = None
        if len(self.papers) <= DENSE_SIMILARITY_MAX:
            self._similarity = redundancy((self._vectors @ self._vectors.T).toarray())
            np.fill_diagonal(self._similarity, 0.0)
        self._topics: dict[str, np.ndarray] = {}
        self._ceilings: dict[str, float] = {}  # each cached topic's best relevance in the pool
        self.examples = ExampleSpace(self.papers, self.lexical, self._vectors, semantic)
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._trending: tuple[datetime, Trending] | None = None
        self._paper_reasons: dict[int, tuple[str | None, str]] = {}
        # name word -> the (paper, author) pairs whose name has it
        self._author_words: dict[str, set[tuple[int, int]]] = {}
        for row, paper in enumerate(self.papers):
            for k, name in enumerate(paper.authors):
                for word in normalised(name).split():
                    self._author_words.setdefault(word, set()).add((row, k))

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
                self._ceilings.clear()
            found.setflags(write=False)  # shared by every subscriber with the topic
            self._topics[phrase] = found
            self._ceilings[phrase] = float(found.max()) if len(found) else 0.0
        return found

    def rank(
        self,
        interests: Sequence[Interest],
        *,
        examples: Sequence[RankedExample] = (),
        exclude: Collection[str] = (),
        limit: int = 10,
        now: datetime,
    ) -> list[Pick]:
        """The best ``limit`` papers for these interests and examples, best first, none of
        ``exclude``; every score and relevance stays in its bounds however many examples."""
        n = len(self.papers)
        if n == 0 or limit <= 0:
            return []
        topics: list[tuple[str, float]] = []
        authors: list[str] = []
        mutes: list[str] = []
        for interest in interests:
            if interest.kind == "topic":
                if interest.weight:
                    topics.append((interest.phrase, interest.weight))
            elif interest.kind == "author":
                authors.append(interest.phrase)
            elif interest.kind == "mute":
                mutes.append(interest.phrase)
        if self.semantic is not None:
            self.semantic.prepare(p for p, _ in topics)
        trend = self._trend(now)
        learned = (
            self.examples.learn(examples, now, self.settings.example_half_life_days)
            if examples
            else None
        )
        per_topic = self._per_topic(topics) if topics else None
        topical = (
            facets.combine(per_topic, [w for _, w in topics])
            if per_topic is not None
            else np.zeros(n, dtype=np.float32)
        )
        if per_topic is not None or (learned is not None and learned.share > 0):
            relevance = learned.apply(topical) if learned is not None else topical
            eligible = relevance >= self.settings.relevance_floor
            if learned is not None:  # a paper the typed topics pick stays in whatever the clicks
                eligible |= topical >= self.settings.relevance_floor
            # Popularity and freshness scale with relevance: they order papers that match
            # about equally well, and cannot lift a weak match over a strong one.
            score = relevance * (self.settings.relevance_weight + trend.topical)
        else:
            relevance = topical
            eligible = np.ones(n, dtype=bool)
            score = trend.score
            if learned is not None:  # only dislikes: they sink the trending digest's papers
                score = score * (1.0 - learned.drop)
        followed = self._followed(authors) if authors else None
        if followed is not None:
            eligible = eligible | followed
            score = score + AUTHOR_BOOST * followed
        for mute in mutes:
            eligible = eligible & ~self._muted(mute)
        if exclude:
            gone = [self._position[i] for i in exclude if i in self._position]
            if gone:
                eligible = eligible.copy()
                eligible[gone] = False
        candidates = np.flatnonzero(eligible)
        pool = min(len(candidates), limit * POOL)
        if pool < len(candidates):
            candidates = candidates[np.argpartition(score[candidates], -pool)[-pool:]]
        candidates = candidates[np.argsort(-score[candidates], kind="stable")]
        chosen = candidates[:limit]
        if self.settings.diversity > 0 and len(candidates) > 1:
            overlap = self._pair_similarity(candidates)
            # With no repeats among the best ``limit``, MMR would pick exactly them.
            if overlap[:limit, :limit].any():
                order = mmr(score[candidates], overlap, limit, self.settings.diversity)
                chosen = candidates[order]
        rows = chosen.tolist()
        if per_topic is not None and (len(topics) > 1 or learned is not None):
            rows = facets.share(
                rows,
                per_topic,
                [w for _, w in topics],
                eligible,
                score,
                self.settings.relevance_floor,
                [self._ceilings[p] * min(w, 1.0) for p, w in topics],
            )
        return self._picks(rows, score, relevance, topical, topics, per_topic, followed, learned)

    def prepare_examples(self, papers: Sequence[Paper]) -> None:
        """Get ready for subscribers with these example papers (one batch for a page of them)."""
        self.examples.prepare(papers)

    def _per_topic(self, topics: Sequence[tuple[str, float]]) -> np.ndarray:
        """Weighted relevance of every paper to each topic: one row per topic."""
        if len(topics) == 1:  # a view, not a copy: many subscribers have one topic
            return facets.weighted(self.topic_relevance(topics[0][0])[None, :], [topics[0][1]])
        rows = np.vstack([self.topic_relevance(p) for p, _ in topics])
        return facets.weighted(rows, [w for _, w in topics])

    def covering(self, phrase: str) -> np.ndarray:
        """Which papers contain every word of the phrase (cached: topics repeat)."""
        key = ("covers", phrase)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = self.lexical.covering(phrase)
        return mask

    def _reasons(self, row: int) -> tuple[str | None, str]:
        """The paper's own explanations: popularity, and freshness (used when nothing else is)."""
        found = self._paper_reasons.get(row)
        if found is None:
            paper = self.papers[row]
            when = paper.posted_at or paper.first_seen
            fresh = f"new: listed {when:%b %d}" if when else "new in this issue"
            found = self._paper_reasons[row] = (trending_reason(paper), fresh)
        return found

    def _trend(self, now: datetime) -> Trending:
        if self._trending is None or self._trending[0] != now:
            self._trending = (now, trending(self.papers, self.settings, now))
        return self._trending[1]

    def _followed(self, authors: Sequence[str]) -> np.ndarray:
        """Papers with an author whose name has every word of a followed name ("LeCun" and
        "Yann LeCun" both follow Yann LeCun)."""
        key = ("author", "\n".join(sorted(authors)))
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(len(self.papers), dtype=bool)
            for name in authors:
                words = normalised(name).split()
                if not words:
                    continue
                found = set.intersection(*(self._author_words.get(w, set()) for w in words))
                mask[[row for row, _ in found]] = True
            self._masks[key] = mask
        return mask

    def _muted(self, mute: str) -> np.ndarray:
        """Papers whose title or abstract contains the muted phrase (stemmed, so muting
        "diffusion model" also mutes "diffusion models")."""
        key = ("mute", mute)
        mask = self._masks.get(key)
        if mask is None:
            mask = self.lexical.containing(mute)
            self._masks[key] = mask
        return mask

    def _pair_similarity(self, rows: np.ndarray) -> np.ndarray:
        if self._similarity is not None:
            n = len(self.papers)
            return self._similarity.ravel()[rows[:, None] * n + rows]
        chosen = self._vectors[rows]
        found = redundancy((chosen @ chosen.T).toarray())
        np.fill_diagonal(found, 0.0)
        return found

    def _picks(
        self,
        rows: list[int],
        score: np.ndarray,
        relevance: np.ndarray,
        topical: np.ndarray,
        topics: Sequence[tuple[str, float]],
        per_topic: np.ndarray | None,
        followed: np.ndarray | None,
        learned: Learned | None,
    ) -> list[Pick]:
        chosen = np.array(rows, dtype=np.int64)
        scores = score[chosen].tolist()
        relevances = relevance[chosen].tolist()
        floor = self.settings.relevance_floor
        named: list[list[str]] = [[] for _ in rows]
        if per_topic is not None:
            covered = (
                self.covering(topics[0][0])[chosen][None, :]
                if len(topics) == 1
                else np.vstack([self.covering(phrase)[chosen] for phrase, _ in topics])
            )
            named = topic_reasons(topics, per_topic[:, chosen], covered, floor)
        topical_of = topical[chosen].tolist() if learned is not None else None
        followed_of = followed[chosen].tolist() if followed is not None else None
        picks = []
        for k, row in enumerate(rows):
            paper = self.papers[row]
            why = named[k]
            if topical_of is not None:
                like = like_reason(row, topical_of[k], learned, floor)
                if like is not None:  # first when the likes alone brought the paper in
                    why.insert(0 if topical_of[k] < floor else len(why), like)
            if followed_of is not None and followed_of[k]:
                why.append("by an author you follow")
            popular, fresh = self._reasons(row)
            if popular:
                why.append(popular)
            if not why:
                why.append(fresh)
            picks.append(Pick(paper, round(scores[k], 6), relevances[k], tuple(why)))
        return picks
