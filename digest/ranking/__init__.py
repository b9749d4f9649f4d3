"""Ranking: each subscriber gets the papers that matter to them, explained, never repeated.

``build_ranker(papers, settings)`` indexes an issue's candidate papers once; ``Ranker.rank``
answers per subscriber. ``delivered_ids`` and ``remember`` (page-sized: ``delivered_many``,
``remember_many``) are the memory of what was sent.
"""

from digest.ranking.memory import delivered_ids, delivered_many, remember, remember_many
from digest.ranking.ranker import Pick, Ranker, build_ranker, shared_encoder
from digest.ranking.semantic import (
    DatabaseEmbeddings,
    EmbeddingStore,
    Encoder,
    MemoryEmbeddings,
    embed_stored_papers,
    semantic_available,
    semantic_wanted,
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
    "delivered_many",
    "embed_stored_papers",
    "remember",
    "remember_many",
    "semantic_available",
    "semantic_wanted",
    "shared_encoder",
]
