"""Topics as facets: a paper on two of a subscriber's topics beats one on a single topic, and
distinct interests still each get their share of the picks."""

from __future__ import annotations

import numpy as np

from digest.ranking.facets import combine, share, weighted
from subscribers.model import Interest
from tests.unit.ranking.support import NOW, lexical, paper

BOTH = paper(
    "Continual Learning without Catastrophic Forgetting",
    "A continual learning method that prevents catastrophic forgetting of earlier tasks.",
)
ONE = paper(
    "A Benchmark for Continual Learning",
    "We compare continual learning methods on a stream of tasks over many continual learning"
    " settings.",
)
FILLER = [
    paper(f"Unrelated Paper {n}", f"Image classification with convolutional networks, part {n}.")
    for n in range(6)
]


def test_a_paper_matching_two_facets_ranks_above_one_matching_one() -> None:
    ranker = lexical([ONE, BOTH, *FILLER])
    topics = [Interest("topic", "continual learning"), Interest("topic", "catastrophic forgetting")]
    picks = ranker.rank(topics, limit=2, now=NOW)
    assert [p.paper for p in picks] == [BOTH, ONE]
    assert picks[0].why[0] == "matches: continual learning, catastrophic forgetting"


def test_combine_is_bounded_and_rewards_more_facets() -> None:
    rows = np.array([[0.9, 0.9, 0.0], [0.9, 0.0, 0.0]], dtype=np.float32)
    relevance = combine(rows, [1.0, 1.0])
    assert relevance[0] > relevance[1] == np.float32(0.9) and relevance.max() <= 1.0
    assert combine(np.ones((5, 3), dtype=np.float32), [1.0] * 5).max() <= 1.0


def test_weights_above_one_do_not_saturate() -> None:
    rows = np.array([[0.6, 0.9]], dtype=np.float32)
    assert weighted(rows, [3.0]).tolist() == rows.tolist()


def test_each_distinct_interest_gets_its_share() -> None:
    # topic 0 matches every paper strongly, topic 1 only paper 5, weakly
    per_topic = np.array([[0.9, 0.9, 0.9, 0.9, 0.9, 0.0], [0, 0, 0, 0, 0, 0.3]], np.float32)
    score = per_topic.max(axis=0)
    eligible = np.ones(6, dtype=bool)
    picks = share([0, 1, 2], per_topic, [1.0, 1.0], eligible, score, 0.1)
    assert 5 in picks and 0 in picks and len(picks) == 3


def test_separate_interests_both_appear_in_a_short_digest() -> None:
    wireless = [
        paper(f"Wireless Networks Study {n}", "Power allocation in wireless networks.")
        for n in range(5)
    ]
    pruning = paper("Pruning Convolutional Networks", "Structured pruning removes channels.")
    ranker = lexical([*wireless, pruning, *FILLER])
    picks = ranker.rank(
        [Interest("topic", "wireless networks"), Interest("topic", "pruning")], limit=3, now=NOW
    )
    assert pruning in [p.paper for p in picks]
