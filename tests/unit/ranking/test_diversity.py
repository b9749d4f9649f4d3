"""MMR: repeats make way for something different; no diversity means plain score order."""

from __future__ import annotations

import numpy as np

from digest.ranking.diversity import mmr, redundancy


def test_mmr_skips_a_repeat_of_what_was_picked() -> None:
    scores = np.array([0.9, 0.89, 0.6])
    overlap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32)
    assert mmr(scores, overlap, 2, 0.3) == [0, 2]
    assert mmr(scores, overlap, 2, 0.0) == [0, 1]
    assert mmr(scores, overlap, 5, 0.3) == [0, 2, 1]


def test_same_topic_is_not_redundant_but_a_near_copy_is() -> None:
    assert np.allclose(redundancy(np.array([0.3, 0.475, 0.9])), [0.0, 0.5, 1.0])
