"""Embeddings of stored papers computed ahead of ranking (after ingest and collect), in saved
batches with progress, and only for papers that have none."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from digest.ranking import DatabaseEmbeddings, embed_stored_papers
from digest.ranking import semantic as semantic_module
from tests.unit.ranking.support import BACKGROUND
from tests.unit.ranking.test_semantic import FakeEncoder


def test_only_papers_without_an_embedding_are_embedded(
    engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic_module, "EMBED_BATCH", 2)
    ingest(engine, BACKGROUND, now)
    store = DatabaseEmbeddings(engine)
    assert store.missing_ids() == sorted(p.id for p in BACKGROUND)
    assert embed_stored_papers(engine, lambda: None) == 0  # the semantic ranker is off
    progress: list[tuple[int, int]] = []
    encoder = FakeEncoder()
    total = len(BACKGROUND)
    assert embed_stored_papers(engine, lambda: encoder, lambda *p: progress.append(p)) == total
    assert progress == [(min(k + 2, total), total) for k in range(0, total, 2)]
    assert len(encoder.encoded) == 2 * total  # lead and full text, each once
    assert store.missing_ids() == []
    assert embed_stored_papers(engine, FakeEncoder) == 0
    # A vector of an older format counts as missing, and only it is recomputed.
    store.save({BACKGROUND[1].id: np.zeros(384, dtype=np.float32)})
    assert store.missing_ids() == [BACKGROUND[1].id]
    again = FakeEncoder()
    assert embed_stored_papers(engine, lambda: again) == 1
    assert len(again.encoded) == 2


def test_a_stop_between_batches_keeps_what_was_saved(
    engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic_module, "EMBED_BATCH", 2)
    ingest(engine, BACKGROUND, now)
    batches: list[int] = []
    done = embed_stored_papers(
        engine, FakeEncoder, lambda d, _t: batches.append(d), should_stop=lambda: bool(batches)
    )
    assert done == 2 and batches == [2]
    assert len(DatabaseEmbeddings(engine).missing_ids()) == len(BACKGROUND) - 2
