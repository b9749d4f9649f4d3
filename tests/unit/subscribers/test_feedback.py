"""The feedback rule and key phrases (pure)."""

from __future__ import annotations

from papercore.papers import Paper
from subscribers.feedback import MIN_WEIGHT, adjust
from subscribers.keyphrases import mentions, paper_phrases, suggest_topics
from subscribers.model import Interest

GNN = Paper("1", "Graph neural networks for molecule generation", "Molecule generation is hard.")


def test_key_phrases_are_runs_of_content_words() -> None:
    assert paper_phrases(GNN) == ["molecule generation", "graph neural networks"]
    assert mentions(GNN, "Graph Neural Networks") and not mentions(GNN, "neural net")


def test_suggestions_are_phrases_several_papers_share() -> None:
    papers = [Paper(str(i), f"Diffusion models for task {i}", "") for i in range(3)]
    assert suggest_topics([*papers, GNN]) == ["diffusion models"]


def test_more_strengthens_matched_topics_and_learns_new_ones() -> None:
    after, change = adjust((Interest("topic", "graph neural networks"),), GNN, more=True)
    assert after == [
        Interest("topic", "graph neural networks", 1.5),
        Interest("topic", "molecule generation", 0.5),
    ]
    assert change.strengthened == ("graph neural networks",)


def test_more_unmutes_what_the_liked_paper_mentions() -> None:
    after, change = adjust((Interest("mute", "molecule generation"),), GNN, more=True)
    assert all(i.kind != "mute" for i in after) and change.unmuted == ("molecule generation",)


def test_less_weakens_matched_topics_but_never_deletes_them() -> None:
    interests = (Interest("topic", "graph neural networks", 0.3), Interest("topic", "audio"))
    after, change = adjust(interests, GNN, more=False)
    assert after == [
        Interest("topic", "graph neural networks", MIN_WEIGHT),
        Interest("topic", "audio"),
    ]
    assert change.weakened == ("graph neural networks",)


def test_less_on_an_unmatched_paper_mutes_its_key_phrase() -> None:
    after, change = adjust((Interest("topic", "audio"),), GNN, more=False)
    assert Interest("mute", "molecule generation") in after and change.muted == (
        "molecule generation",
    )
