"""The feedback rule's pure parts, and key phrases."""

from __future__ import annotations

import pytest

from papercore.errors import InputError
from papercore.papers import Paper
from subscribers.feedback import LESS, MORE, votes_from
from subscribers.keyphrases import mentions, paper_phrases, suggest_topics

GNN = Paper("1", "Graph neural networks for molecule generation", "Molecule generation is hard.")


def test_key_phrases_are_runs_of_content_words() -> None:
    assert paper_phrases(GNN) == ["molecule generation", "graph neural networks"]
    assert mentions(GNN, "Graph Neural Networks") and not mentions(GNN, "neural net")


def test_suggestions_are_phrases_several_papers_share() -> None:
    papers = [Paper(str(i), f"Diffusion models for task {i}", "") for i in range(3)]
    assert suggest_topics([*papers, GNN]) == ["diffusion models"]


def test_votes_from_more_and_less_lists() -> None:
    assert votes_from(["a", "b", "a"], ["c"]) == {"a": MORE, "b": MORE, "c": LESS}
    assert votes_from([], []) == {}


def test_a_paper_cannot_be_both_more_and_less() -> None:
    with pytest.raises(InputError, match="paper b is marked both --more and --less"):
        votes_from(["a", "b"], ["b"])
