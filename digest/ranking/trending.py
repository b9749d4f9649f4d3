"""Popularity and freshness: what a paper scores with no interests at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from papercore.config import RankingSettings
from papercore.papers import Paper, utc

# Upvotes at or above this read as "trending" in an explanation.
TRENDING_UPVOTES = 20
# For a subscriber with topics, freshness only breaks ties between papers that match about
# equally well: it counts this share of its weight (listing dates say nothing about a topic).
TOPICAL_RECENCY_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Trending:
    """Per-paper trending components, each in [0, 1], the blended score (the trending digest),
    and ``topical``, the same blend with recency damped (a lift on topical relevance)."""

    upvotes: np.ndarray
    comments: np.ndarray
    recency: np.ndarray
    score: np.ndarray
    topical: np.ndarray


def trending(papers: Sequence[Paper], settings: RankingSettings, now: datetime) -> Trending:
    """Upvotes and comments on a log scale relative to the most popular paper, and recency
    halving every ``recency_half_life_days``, blended by the configured weights."""
    upvotes = _log_share([p.upvotes for p in papers])
    comments = _log_share([p.comments for p in papers])
    ages = np.array([_age_days(p, now) for p in papers], dtype=np.float32)
    recency = np.where(
        np.isnan(ages), 0.0, np.power(0.5, np.nan_to_num(ages) / settings.recency_half_life_days)
    ).astype(np.float32)
    popularity = settings.upvotes_weight * upvotes + settings.comments_weight * comments
    score = (popularity + settings.recency_weight * recency).astype(np.float32)
    topical = popularity + TOPICAL_RECENCY_SHARE * settings.recency_weight * recency
    return Trending(upvotes, comments, recency, score, topical.astype(np.float32))


def trending_reason(paper: Paper) -> str | None:
    if paper.upvotes is not None and paper.upvotes >= TRENDING_UPVOTES:
        return f"trending: {paper.upvotes} upvotes"
    if paper.comments:
        return f"discussed: {paper.comments} comments"
    return None


def _log_share(counts: Sequence[int | None]) -> np.ndarray:
    values = np.log1p(np.array([max(c or 0, 0) for c in counts], dtype=np.float32))
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else np.zeros(len(values), dtype=np.float32)


def _age_days(paper: Paper, now: datetime) -> float:
    when = paper.posted_at or paper.first_seen
    if when is None and paper.published is not None:
        return max((now.date() - paper.published).days, 0)
    if when is None:
        return float("nan")
    return max((now - utc(when)).total_seconds() / 86_400, 0.0)
