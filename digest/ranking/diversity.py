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
    """Positions into ``scores`` (sorted best first) in pick order. Each step takes the candidate
    maximising ``(1 - diversity) * score - diversity * (its highest redundancy with a paper
    already picked)``; diversity 0 is plain score order."""
    n = len(scores)
    if n == 0 or limit <= 0:
        return []
    if diversity <= 0 or n == 1:
        return list(range(min(limit, n)))
    keep = 1.0 - diversity
    values = scores.tolist()
    overlap = similarity.tolist()
    remaining = list(range(n))
    chosen: list[int] = []
    while remaining and len(chosen) < limit:
        best, best_gain = -1, -np.inf
        for c in remaining:
            if keep * values[c] <= best_gain:
                break  # scores are sorted: no later candidate can gain more
            row = overlap[c]
            gain = keep * values[c] - diversity * max((row[p] for p in chosen), default=0.0)
            if gain > best_gain:
                best, best_gain = c, gain
        chosen.append(best)
        remaining.remove(best)
    return chosen
