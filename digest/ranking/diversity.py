"""Maximal marginal relevance: near-duplicates do not fill the top of a digest."""

from __future__ import annotations

import numpy as np

# TF-IDF cosine of two papers on the same topic is typically 0.1-0.25; versions of the same
# method score 0.4 and more. Only similarity above SAME_TOPIC counts as redundancy, and
# DUPLICATE and above counts fully.
SAME_TOPIC = 0.35
DUPLICATE = 0.6


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
    # Only pairs that overlap at all matter; most do not.
    repeats: dict[int, list[tuple[int, float]]] = {}
    rows, columns = np.nonzero(similarity)
    values_of = similarity[rows, columns].tolist()
    for i, j, value in zip(rows.tolist(), columns.tolist(), values_of, strict=True):
        repeats.setdefault(i, []).append((j, value))
    redundancy_now = [0.0] * n
    remaining = list(range(n))
    chosen: list[int] = []
    while remaining and len(chosen) < limit:
        best, best_gain = -1, -np.inf
        for c in remaining:
            if keep * values[c] <= best_gain:
                break  # scores are sorted: no later candidate can gain more
            gain = keep * values[c] - diversity * redundancy_now[c]
            if gain > best_gain:
                best, best_gain = c, gain
        chosen.append(best)
        remaining.remove(best)
        for other, value in repeats.get(best, ()):
            if value > redundancy_now[other]:
                redundancy_now[other] = value
    return chosen
