"""The semantic ranker: embeddings computed once per paper and reused; fused with lexical."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from digest.config import RankingSettings
from digest.ranking import MemoryEmbeddings, build_ranker, semantic_available
from subscribers.model import Interest
from tests.unit.ranking_support import BACKGROUND, NOW

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
                rows[i, hash(SYNONYMS.get(word, word)) % 384] += 1
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
    from tests.unit.ranking_support import paper

    papers = [
        *BACKGROUND,
        paper("Fast mobile inference", "Running compact models on mobile devices."),
    ]
    encoder = FakeEncoder()
    ranker = build_ranker(papers, RankingSettings(), embeddings_cache=None, encoder=encoder)
    assert ranker.is_semantic
    picks = ranker.rank([Interest("topic", "phones")], limit=1, now=NOW)
    assert picks[0].paper.title == "Fast mobile inference"
    assert picks[0].why == ("matches: phones",)


def test_semantic_off_builds_the_lexical_ranker() -> None:
    ranker = build_ranker(BACKGROUND, RankingSettings(semantic="off"))
    assert not ranker.is_semantic


@pytest.mark.skipif(not semantic_available(), reason="the [semantic] extra is not installed")
def test_the_bundled_model_loads_offline_and_ranks() -> None:
    ranker = build_ranker(BACKGROUND, RankingSettings(semantic="on"), embeddings_cache=None)
    assert ranker.is_semantic
    picks = ranker.rank([Interest("topic", "image generation")], limit=1, now=NOW)
    assert picks[0].paper.title == "Diffusion Models for Image Synthesis"
