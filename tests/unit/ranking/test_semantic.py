"""The semantic ranker: embeddings computed once per paper and reused; fused with lexical."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from digest.ranking import MemoryEmbeddings, build_ranker, semantic, semantic_available
from papercore.config import RankingSettings
from subscribers.model import Interest
from tests.unit.ranking.support import BACKGROUND, NOW

# Words that mean the same thing to the fake model.
SYNONYMS = {"phones": "mobile", "smartphones": "mobile", "handsets": "mobile"}


class FakeEncoder:
    """A bag-of-words "embedding" that knows a few synonyms, and counts what it encodes."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        rows = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(".", " ").split():
                # crc32, not hash(): the same buckets in every run (hash() is salted per process)
                rows[i, zlib.crc32(SYNONYMS.get(word, word).encode()) % 384] += 1
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1, norms)


def test_paper_embeddings_are_computed_once_and_cached() -> None:
    cache, encoder = MemoryEmbeddings(), FakeEncoder()
    build_ranker(BACKGROUND, RankingSettings(), embeddings_cache=cache, encoder=encoder)
    assert len(encoder.encoded) == 2 * len(BACKGROUND)  # lead and full text
    assert set(cache.vectors) == {p.id for p in BACKGROUND}
    again = FakeEncoder()
    ranker = build_ranker(BACKGROUND, RankingSettings(), embeddings_cache=cache, encoder=again)
    assert again.encoded == []
    ranker.rank([Interest("topic", "diffusion")], limit=3, now=NOW)
    assert again.encoded == ["diffusion"]  # only the topic


def test_semantic_ranker_finds_papers_that_use_other_words() -> None:
    from tests.unit.ranking.support import paper

    papers = [
        *BACKGROUND,
        paper("Fast mobile inference", "Running compact models on mobile devices."),
    ]
    encoder = FakeEncoder()
    ranker = build_ranker(papers, RankingSettings(), embeddings_cache=None, encoder=encoder)
    assert ranker.is_semantic
    picks = ranker.rank([Interest("topic", "phones")], limit=1, now=NOW)
    assert picks[0].paper.title == "Fast mobile inference"
    # found by meaning, not by its words: the explanation does not claim a match
    assert picks[0].why == ("related to: phones",)


def test_semantic_off_builds_the_lexical_ranker() -> None:
    ranker = build_ranker(BACKGROUND, RankingSettings(semantic="off"))
    assert not ranker.is_semantic


@pytest.mark.skipif(not semantic_available(), reason="the [semantic] extra is not installed")
def test_the_bundled_model_loads_offline_and_ranks() -> None:
    ranker = build_ranker(BACKGROUND, RankingSettings(semantic="on"), embeddings_cache=None)
    assert ranker.is_semantic
    picks = ranker.rank([Interest("topic", "image generation")], limit=1, now=NOW)
    assert picks[0].paper.title == "Diffusion Models for Image Synthesis"


def test_the_centring_mean_blends_the_ranked_papers_with_the_reference() -> None:
    reference = semantic.reference_mean()
    assert reference.shape == (semantic.PARTS, semantic.DIMENSIONS)
    ones = np.ones((3, semantic.PARTS, semantic.DIMENSIONS), dtype=np.float32)
    few = semantic.centring_mean(ones)  # 3 papers against 50 of the reference
    assert np.allclose(few, (3 * 1.0 + semantic.REFERENCE_PAPERS * reference) / 53, atol=1e-6)
    many = semantic.centring_mean(np.ones((5000, 2, 384), dtype=np.float32))
    assert np.abs(many - 1.0).max() < 0.02  # a big issue centres on its own papers


@pytest.mark.skipif(not semantic_available(), reason="the [semantic] extra is not installed")
def test_centring_lets_the_distinctive_words_of_a_topic_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a corpus where every paper is about neural networks, "binary neural networks" is about
    binarisation: without centring, generic neural-network papers come first."""
    from tests.unit.ranking.support import paper

    uses = ["molecular property prediction", "image classification", "speech recognition"]
    uses += ["traffic forecasting", "protein folding", "weather prediction"]
    papers = [
        paper(f"Deep neural networks for {x}", f"We train deep neural networks for {x}.")
        for x in uses
    ]
    papers.append(
        paper(
            "BiBench: Benchmarking network binarization",
            "We study 1-bit weights and activations: binarization compresses models and makes "
            "inference cheap on edge hardware.",
        )
    )
    topic = [Interest("topic", "binary neural networks")]
    encoder = semantic.MiniLMEncoder()
    ranker = build_ranker(papers, RankingSettings(semantic="on"), encoder=encoder)
    assert ranker.rank(topic, limit=1, now=NOW)[0].paper.title.startswith("BiBench")
    monkeypatch.setattr(semantic, "CENTRE", 0.0)
    uncentred = build_ranker(papers, RankingSettings(semantic="on"), encoder=encoder)
    assert not uncentred.rank(topic, limit=1, now=NOW)[0].paper.title.startswith("BiBench")


def test_the_semantic_ranker_learns_from_a_liked_paper_outside_the_pool() -> None:
    from datetime import timedelta

    from digest.ranking import RankedExample
    from tests.unit.ranking.support import paper

    handsets = paper("Fast mobile inference", "Running compact models on mobile devices.")
    older = paper("Inference on phones", "Compact models running on smartphones and handsets.")
    cache, encoder = MemoryEmbeddings(), FakeEncoder()
    ranker = build_ranker(
        [*BACKGROUND, handsets], RankingSettings(), embeddings_cache=cache, encoder=encoder
    )
    liked = [RankedExample(older, 1, NOW - timedelta(days=1))] * 3
    picks = ranker.rank(
        [Interest("topic", "reinforcement learning")], examples=liked, limit=3, now=NOW
    )
    mine = [p for p in picks if p.paper == handsets]
    assert mine and mine[0].why[0] == f"like: {older.title}"
    assert older.id in cache.vectors  # embedded once, kept like any paper's
