"""Memory and the embedding cache on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from digest.memory import delivered_ids, remember
from digest.paper_store import ingest
from digest.ranking import DatabaseEmbeddings, build_ranker
from papercore.config import RankingSettings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.model import Interest
from tests.unit.ranking.support import BACKGROUND
from tests.unit.ranking.test_semantic import FakeEncoder


def test_remembered_papers_are_excluded_next_time(engine: Engine, now: datetime) -> None:
    ingest(engine, BACKGROUND, now)
    with transaction(engine) as connection:
        ada = store.add(connection, "ada@example.org", now, topics=["graph neural networks"])
        bob = store.add(connection, "bob@example.org", now)
    ranker = build_ranker(BACKGROUND, RankingSettings(semantic="off"), encoder=None)
    topic = [Interest("topic", "graph neural networks")]
    first = [p.paper.id for p in ranker.rank(topic, limit=2, now=now)]
    with transaction(engine) as connection:
        remember(connection, ada, None, first, now)
        remember(connection, ada, None, first, now + timedelta(days=1))  # safe to repeat
    with engine.connect() as connection:
        assert delivered_ids(connection, ada) == set(first)
        assert delivered_ids(connection, bob) == set()
        seen = delivered_ids(connection, ada)
    later = ranker.rank(topic, exclude=seen, limit=10, now=now)
    assert later and not {p.paper.id for p in later} & set(first)


def test_embeddings_are_stored_with_the_papers(engine: Engine, now: datetime) -> None:
    ingest(engine, BACKGROUND, now)
    encoder = FakeEncoder()
    settings = RankingSettings(semantic="on")
    build_ranker(BACKGROUND, settings, embeddings_cache=DatabaseEmbeddings(engine), encoder=encoder)
    assert len(encoder.encoded) == 2 * len(BACKGROUND)  # lead and full text
    stored = DatabaseEmbeddings(engine).load([p.id for p in BACKGROUND])
    assert set(stored) == {p.id for p in BACKGROUND}
    assert all(v.dtype == np.float32 and v.shape == (2 * 384,) for v in stored.values())
    again = FakeEncoder()
    build_ranker(BACKGROUND, settings, embeddings_cache=DatabaseEmbeddings(engine), encoder=again)
    assert again.encoded == []
    # A vector cached in an older format (one 384-float vector) is recomputed.
    DatabaseEmbeddings(engine).save({BACKGROUND[0].id: np.zeros(384, dtype=np.float32)})
    stale = FakeEncoder()
    build_ranker(BACKGROUND, settings, embeddings_cache=DatabaseEmbeddings(engine), encoder=stale)
    assert len(stale.encoded) == 2
