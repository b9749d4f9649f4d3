"""Ranking: each subscriber gets the papers that matter to them, explained, never repeated.

``build_ranker(papers, settings)`` indexes an issue's candidate papers once; ``Ranker.rank``
answers per subscriber. ``delivered_ids`` and ``remember`` are the memory of what was sent.
"""

from digest.ranking.memory import delivered_ids, remember
from digest.ranking.ranker import Pick, Ranker, build_ranker
from digest.ranking.semantic import (
    DatabaseEmbeddings,
    EmbeddingStore,
    Encoder,
    MemoryEmbeddings,
    semantic_available,
)

__all__ = [
    "DatabaseEmbeddings",
    "EmbeddingStore",
    "Encoder",
    "MemoryEmbeddings",
    "Pick",
    "Ranker",
    "build_ranker",
    "delivered_ids",
    "remember",
    "semantic_available",
]
