"""Combining a subscriber's topics: facets of one interest add up, distinct interests share.

A paper's topical relevance is its best topic's relevance, raised by each further topic it
matches (a noisy-or, the further ones damped by ``FACET``): a paper on "continual learning" that
is also about "catastrophic forgetting" ranks above one that only mentions continual learning.
Disliked topics (negative weights) subtract. Then ``share`` keeps distinct interests from
crowding each other out: every liked topic with a paper above the floor gets at least one pick.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FACET = 0.5  # how much a second (third, ...) matched topic counts, relative to the best one
SHARE_BAR = 0.5  # a topic is represented by a pick matching it at least this share of its best


def weighted(per_topic: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Each topic's relevance scaled by its weight; weights above 1 (from older feedback)
    count as 1, so no topic can saturate relevance on its own."""
    scale = np.array([min(w, 1.0) for w in weights], dtype=np.float32)
    if np.all(scale == 1.0):
        return per_topic
    return (per_topic * scale[:, None]).astype(np.float32)


def combine(per_topic: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Relevance in [0, 1] of every paper to all the topics (rows of ``per_topic``, already
    weighted): the noisy-or of the liked topics' relevances, best one in full and the others
    damped by ``FACET``, scaled down by the best-matching disliked topic."""
    liked = np.array([w > 0 for w in weights], dtype=bool)
    n = per_topic.shape[1]
    relevance = np.zeros(n, dtype=np.float32)
    if liked.any():
        rows = np.clip(per_topic[liked], 0.0, 1.0)
        if len(rows) == 1:
            relevance = rows[0].astype(np.float32)
        else:
            ordered = -np.sort(-rows, axis=0)
            missing = (1.0 - ordered[0]) * np.prod(1.0 - FACET * ordered[1:], axis=0)
            relevance = (1.0 - missing).astype(np.float32)
    if (~liked).any():
        penalty = np.clip(-per_topic[~liked].min(axis=0), 0.0, 1.0)
        relevance = np.clip(relevance - penalty, 0.0, 1.0).astype(np.float32)
    return relevance


def share(
    chosen: list[int],
    per_topic: np.ndarray,
    weights: Sequence[float],
    eligible: np.ndarray,
    score: np.ndarray,
    floor: float,
) -> list[int]:
    """``chosen`` (rows, in pick order) with each liked topic represented: a topic whose best
    eligible paper matches it above ``floor`` but that no pick matches at ``SHARE_BAR`` of that
    best gets its best paper in place of the last pick no other topic needs."""
    limit = len(chosen)
    liked = [t for t, w in enumerate(weights) if w > 0]
    if not liked or limit < 2:
        return chosen
    picks = list(chosen)
    protected: set[int] = set()
    for topic in liked[:limit]:
        row_values = np.where(eligible, per_topic[topic], -1.0)
        best_row = int(np.argmax(row_values + 1e-6 * score))
        best = float(row_values[best_row])
        if best < floor:
            continue
        bar = max(floor, SHARE_BAR * best)
        holders = [r for r in picks if per_topic[topic, r] >= bar]
        if holders:
            protected.add(holders[0])
            continue
        free = [k for k in range(len(picks) - 1, -1, -1) if picks[k] not in protected]
        if not free:
            break
        picks.pop(free[0])
        picks.append(best_row)
        protected.add(best_row)
    return picks
