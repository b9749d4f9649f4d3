"""Topic suggestions: this week's papers only, no overlapping or generic phrases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from papercore.papers import Paper
from subscribers.keyphrases import suggest_topics

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def paper(n: int, title: str, abstract: str = "", days_ago: float = 1) -> Paper:
    return Paper(str(n), title, abstract, first_seen=NOW - timedelta(days=days_ago))


def test_a_longer_phrase_that_repeats_a_suggested_one_is_left_out() -> None:
    papers = [
        paper(1, "Neural networks for weather", "Deep neural networks for rain."),
        paper(2, "Pruning neural networks", "Pruning of deep neural networks."),
        paper(3, "Neural networks in physics", "Graph transformers and neural networks."),
        paper(4, "Graph transformers at scale", ""),
    ]
    found = suggest_topics(papers)
    assert "neural networks" in found and "deep neural networks" not in found
    assert "graph transformers" in found


def test_benchmark_vocabulary_is_never_suggested() -> None:
    abstract = "Top-1 accuracy improves on downstream tasks with diffusion models."
    papers = [paper(i, f"Study {i}", abstract) for i in range(4)]
    assert suggest_topics(papers) == ["diffusion models"]


def test_only_papers_first_seen_this_week_count() -> None:
    old = [paper(i, "Protein folding with language models", days_ago=30) for i in range(5)]
    new = [paper(10 + i, "Sparse autoencoders for vision", days_ago=2) for i in range(2)]
    found = suggest_topics([*old, *new], seen_since=NOW - timedelta(days=7))
    assert found == ["sparse autoencoders"]


def test_words_of_any_abstract_are_not_topics() -> None:
    abstract = "Training data and computational cost matter for graph transformers."
    papers = [paper(i, f"Note {i}", abstract) for i in range(3)]
    assert suggest_topics(papers) == ["graph transformers"]
