"""Lexical relevance on the sample papers: ambiguous words, sentences, several topics."""

from __future__ import annotations

import pytest

from digest.ranking import Ranker
from digest.ranking.lexical import LexicalIndex
from subscribers.model import Interest
from tests.unit.ranking.support import NOW, lexical, sample_papers


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return lexical(sample_papers())


def top(ranker: Ranker, *topics: str, limit: int = 5) -> list[str]:
    picks = ranker.rank([Interest("topic", t) for t in topics], limit=limit, now=NOW)
    return [p.paper.title + " " + p.paper.abstract for p in picks]


def test_wireless_networks_means_communication_networks_not_neural_ones(ranker: Ranker) -> None:
    found = top(ranker, "wireless networks")
    assert len(found) == 5
    assert all("wireless" in text.lower() for text in found)


def test_network_traffic_is_about_traffic(ranker: Ranker) -> None:
    assert "traffic" in top(ranker, "network traffic", limit=1)[0].lower()


def test_a_sentence_works_as_a_topic(ranker: Ranker) -> None:
    found = top(ranker, "I am interested in papers about graph neural networks")
    assert all("graph" in text.lower() for text in found)


def test_several_unrelated_topics_all_get_a_place(ranker: Ranker) -> None:
    found = " ".join(top(ranker, "spiking neural networks", "Hopfield networks", "protein design"))
    for word in ("spiking", "hopfield", "protein"):
        assert word in found.lower()


def test_relevance_is_between_zero_and_one_and_zero_without_shared_words() -> None:
    index = LexicalIndex(
        [("Wireless mesh networks", "Routing in wireless mesh networks."), ("Cats", "Felines.")]
    )
    relevance = index.match("wireless networks").relevance
    assert 0.5 < relevance[0] <= 1.0
    assert relevance[1] == 0.0
    assert not index.match("quantum chromodynamics").relevance.any()


def test_a_phrase_beats_its_scattered_words() -> None:
    index = LexicalIndex(
        [
            ("Wireless networks for cities", "Deploying wireless networks."),
            ("Neural networks and wireless charging", "A network of chargers, wireless power."),
        ]
    )
    relevance = index.match("wireless networks").relevance
    assert relevance[0] > relevance[1]
