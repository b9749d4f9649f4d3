"""Migration 0011: papers a seed list once put in the shared store become private examples of
the subscribers who listed them (both databases)."""

from __future__ import annotations

import numpy as np
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from digest.paper_store import SEEDED_FIRST_SEEN, get_papers, upsert
from digest.ranking import DatabaseEmbeddings
from digest.ranking.examples import ranked_examples
from digest.ranking.semantic import EMBEDDING_BYTES
from papercore.db.engine import MIGRATIONS, make_engine, transaction
from papercore.papers import Paper
from subscribers import private_examples, store
from subscribers.feedback import MORE
from subscribers.model import SeedText, is_private
from tests.conftest import NOW


def _alembic(engine: Engine, target: str) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_migration_0011_moves_seed_only_papers_into_private_examples(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    _alembic(engine, "0009")
    made_up = Paper("2501.00042", "A made-up title", "Made-up.", ("Nobody",), sources=("seed",))
    untitled = Paper("t:" + "a" * 24, "Only typed", "Typed abstract.", sources=("seed",))
    seen_too = Paper("2501.00077", "Seeded, then seen", "Typed.", sources=("seed", "hf_daily"))
    real = Paper("2406.00001", "From a source", "Real.", sources=("hf_daily",))
    with transaction(engine) as connection:
        upsert(connection, [made_up, untitled, seen_too], SEEDED_FIRST_SEEN)
        upsert(connection, [real], NOW)
        ada = store.add(connection, "ada@example.org", NOW, status="active")
        bob = store.add(connection, "bob@example.org", NOW, status="pending")
        votes = {made_up.id: MORE, untitled.id: MORE, seen_too.id: MORE, real.id: MORE}
        store.put_examples(connection, ada, votes, NOW, 100)
        store.put_examples(connection, bob, {made_up.id: MORE}, NOW, 100)
    _alembic(engine, "0011")
    with engine.connect() as connection:
        left = get_papers(connection, [p.id for p in (made_up, untitled, seen_too, real)])
        examples = {sid: store.get(connection, sid).examples for sid in (ada, bob)}
        rows = connection.execute(text("SELECT count(*) FROM private_examples")).scalar_one()
    engine.dispose()
    assert sorted(left) == ["2406.00001", "2501.00077"]  # seed-only papers are gone
    assert sorted(e.paper_id for e in examples[ada] if not is_private(e.paper_id)) == [
        "2406.00001",
        "2501.00077",
    ]
    assert sorted((e.seed.title, e.seed.arxiv) for e in examples[ada] if e.seed) == [
        ("A made-up title", "2501.00042"),
        ("Only typed", None),
    ]
    assert [e.seed for e in examples[bob]] == [
        SeedText("A made-up title", "Made-up.", ("Nobody",), "2501.00042")
    ]
    assert rows == 3


def test_a_private_seed_is_ranked_from_its_own_text_and_its_embedding_is_cached(
    engine: Engine,
) -> None:
    with transaction(engine) as connection:
        sid = store.add(connection, "ada@example.org", NOW, status="active")
        private_examples.put(connection, sid, [SeedText("Typed title", "Typed text.")], MORE, NOW)
    with engine.connect() as connection:
        (example,) = store.get(connection, sid).examples
    (ranked,) = ranked_examples([example], {})  # in no paper store, yet learned from
    assert (ranked.paper.id, ranked.paper.title, ranked.paper.abstract) == (
        example.paper_id,
        "Typed title",
        "Typed text.",
    )
    cache = DatabaseEmbeddings(engine)
    assert cache.load([example.paper_id]) == {}
    vector = np.arange(EMBEDDING_BYTES // 4, dtype=np.float32)
    cache.save({example.paper_id: vector})  # the semantic ranker's cache for it
    assert np.array_equal(cache.load([example.paper_id])[example.paper_id], vector)
    with engine.connect() as connection:
        papers = connection.execute(text("SELECT count(*) FROM papers")).scalar_one()
    assert papers == 0
