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
    if all(w == 1.0 for w in weights):
        return per_topic
    scale = np.array([min(w, 1.0) for w in weights], dtype=np.float32)
    return (per_topic * scale[:, None]).astype(np.float32)


def combine(per_topic: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Relevance in [0, 1] of every paper to all the topics (rows of ``per_topic``, already
    weighted): the noisy-or of the liked topics' relevances, best one in full and the others
    damped by ``FACET``, scaled down by the best-matching disliked topic."""
    liked = [w > 0 for w in weights]
    if all(liked):  # most subscribers: no disliked topic
        return _noisy_or(per_topic)
    relevance = (
        _noisy_or(per_topic[np.array(liked)])
        if any(liked)
        else np.zeros(per_topic.shape[1], dtype=np.float32)
    )
    disliked = per_topic[~np.array(liked)]
    penalty = np.clip(-disliked.min(axis=0), 0.0, 1.0)
    relevance = np.clip(relevance - penalty, 0.0, 1.0).astype(np.float32)
    return relevance


def _noisy_or(rows: np.ndarray) -> np.ndarray:
    """Best topic in full, the others damped by ``FACET`` (each row in [0, 1] already)."""
    if len(rows) == 1:
        return rows[0]
    # the product over every topic with the best one's damped term swapped for its full one:
    # no sort, as this runs once per subscriber
    best = rows.max(axis=0)
    others = np.prod(1.0 - FACET * rows, axis=0) / (1.0 - FACET * best)
    return (1.0 - (1.0 - best) * others).astype(np.float32, copy=False)


def share(
    chosen: list[int],
    per_topic: np.ndarray,
    weights: Sequence[float],
    eligible: np.ndarray,
    score: np.ndarray,
    floor: float,
    ceilings: Sequence[float] | None = None,
) -> list[int]:
    """``chosen`` (rows, in pick order) with each liked topic represented: a topic whose best
    eligible paper matches it above ``floor`` but that no pick matches at ``SHARE_BAR`` of that
    best gets its best paper in place of the last pick no other topic needs. ``ceilings``: each
    topic's best relevance over the whole pool, when the caller knows it."""
    limit = len(chosen)
    liked = [t for t, w in enumerate(weights) if w > 0][:limit]
    if not liked or limit < 2:
        return chosen
    rows = per_topic if len(liked) == len(weights) else per_topic[liked]
    # fast path, most subscribers: every topic holds a pick even against its best paper overall
    held = rows[:, chosen].tolist()
    tops = rows.max(axis=1).tolist() if ceilings is None else [ceilings[t] for t in liked]
    if all(
        top < floor or max(values) >= max(floor, SHARE_BAR * top)
        for top, values in zip(tops, held, strict=False)
    ):
        return chosen
    picks = list(chosen)
    masked = np.where(eligible, rows, -1.0)
    bests = masked.max(axis=1)
    protected: set[int] = set()
    for k, topic in enumerate(liked):
        best = float(bests[k])
        if best < floor:
            continue
        needed = max(floor, SHARE_BAR * best)
        holders = [picks[j] for j in np.flatnonzero(per_topic[topic, picks] >= needed)]
        if holders:
            protected.add(holders[0])
            continue
        free = [j for j in range(len(picks) - 1, -1, -1) if picks[j] not in protected]
        if not free:
            break
        tied = np.flatnonzero(masked[k] >= best)
        best_row = int(tied[np.argmax(score[tied])])
        picks.pop(free[0])
        picks.append(best_row)
        protected.add(best_row)
    return picks
