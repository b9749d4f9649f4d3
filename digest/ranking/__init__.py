"""Ranking: each subscriber gets the papers that matter to them, explained, never repeated.

``build_ranker(papers, settings)`` indexes an issue's candidate papers once; ``Ranker.rank``
answers per subscriber, from their interests and examples (``RankedExample``). What each
subscriber already received is ``digest.memory``'s.
"""

from digest.ranking.examples import RankedExample
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
    "RankedExample",
    "Ranker",
    "build_ranker",
    "embed_stored_papers",
    "semantic_available",
    "semantic_wanted",
    "shared_encoder",
]
