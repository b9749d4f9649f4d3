"""Maximal marginal relevance: near-duplicates do not fill the top of a digest."""

from __future__ import annotations

import numpy as np

# TF-IDF cosine of two papers on the same topic is typically 0.1-0.25; versions of the same
# method score 0.4 and more. Only similarity above SAME_TOPIC counts as redundancy, and
# DUPLICATE and above counts fully.
SAME_TOPIC = 0.2
DUPLICATE = 0.5


def redundancy(cosine: np.ndarray) -> np.ndarray:
    """How much of a repeat one paper is of another, in [0, 1], from their term-vector cosine."""
    scaled = (np.asarray(cosine, dtype=np.float32) - SAME_TOPIC) / (DUPLICATE - SAME_TOPIC)
    return np.clip(scaled, 0.0, 1.0)


def mmr(scores: np.ndarray, similarity: np.ndarray, limit: int, diversity: float) -> list[int]:
    """Positions into ``scores`` in pick order. Each step takes the candidate maximising
    ``(1 - diversity) * score - diversity * (highest similarity to a paper already picked)``;
    diversity 0 is plain score order."""
    n = len(scores)
    if n == 0 or limit <= 0:
        return []
    if diversity <= 0 or n == 1:
        return [int(i) for i in np.argsort(-scores, kind="stable")[:limit]]
    chosen: list[int] = []
    redundancy = np.zeros(n, dtype=np.float32)
    available = np.ones(n, dtype=bool)
    relevance = (1.0 - diversity) * scores
    for _ in range(min(limit, n)):
        gain = np.where(available, relevance - diversity * redundancy, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        np.maximum(redundancy, similarity[best], out=redundancy)
    return chosen
