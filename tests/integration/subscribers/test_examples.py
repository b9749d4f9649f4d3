"""Feedback examples in the store, the click rule, seeding and migration 0005 (both databases)."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from digest.paper_store import (
    SEEDED_FIRST_SEEN,
    SeedShelf,
    get_papers,
    ingest,
    list_papers,
    upsert,
)
from papercore.db.engine import MIGRATIONS, make_engine, transaction
from papercore.papers import Paper, paper_id_for
from subscribers import store
from subscribers.feedback import LESS, MORE, forget_example, record_votes, reset_learning
from subscribers.model import Example, SeedText, is_private
from subscribers.paper_list import read_paper_list
from subscribers.seeding import SeedLimits, seed_profile
from tests.conftest import NOW

LIMITS = SeedLimits()
PAPERS = [Paper(f"2406.0000{n}", f"Paper number {n}", f"Abstract {n}.") for n in range(1, 6)]


def person_with_papers(engine: Engine) -> int:
    ingest(engine, PAPERS, NOW)
    with transaction(engine) as connection:
        return store.add(connection, "ada@example.org", NOW, topics=["graphs"], status="active")


def test_a_click_stores_an_example_and_a_later_click_replaces_it(engine: Engine) -> None:
    sid = person_with_papers(engine)
    later = NOW + timedelta(hours=1)
    with transaction(engine) as connection:
        person = store.get(connection, sid)
        first = record_votes(connection, person, {"2406.00001": MORE}, NOW, issue_id=7, via="page")
        again = record_votes(
            connection, person, {"2406.00001": MORE}, later, issue_id=7, via="page"
        )
        record_votes(connection, person, {"2406.00002": MORE}, NOW, issue_id=None, via="cli")
        flip = record_votes(connection, person, {"2406.00002": LESS}, later, issue_id=8, via="page")
    assert first.changed == ("2406.00001",) and again.repeated == ("2406.00001",)
    assert flip.changed == ("2406.00002",)
    with engine.connect() as connection:
        person = store.get(connection, sid)
        events = [e["detail"] for e in store.events(connection, sid) if e["kind"] == "feedback"]
    assert person.examples == (
        Example("2406.00001", MORE, later),
        Example("2406.00002", LESS, later),
    )
    assert person.topics == ("graphs",)  # typed topics are never touched by a click
    assert [(e["paper"], e["d"], e["issue"], e["via"]) for e in events] == [
        ("2406.00001", 1, 7, "page"),
        ("2406.00002", 1, None, "cli"),
        ("2406.00002", -1, 8, "page"),
    ]


def test_examples_load_with_subscribers_page_by_page(engine: Engine) -> None:
    sid = person_with_papers(engine)
    with transaction(engine) as connection:
        other = store.add(connection, "bob@example.org", NOW, status="active")
        store.put_examples(connection, sid, {"2406.00003": MORE}, NOW, keep=10)
        store.put_examples(connection, other, {"2406.00004": LESS}, NOW, keep=10)
    with engine.connect() as connection:
        everyone = {p.email: p.examples for p in store.iter_subscribers(connection, batch=1)}
        found = store.find(connection, "bob@example.org")
    assert everyone == {
        "ada@example.org": (Example("2406.00003", MORE, NOW),),
        "bob@example.org": (Example("2406.00004", LESS, NOW),),
    }
    assert found is not None and found.examples == everyone["bob@example.org"]


def test_only_the_newest_examples_are_kept(engine: Engine) -> None:
    sid = person_with_papers(engine)
    with transaction(engine) as connection:
        for n, paper in enumerate(PAPERS):
            store.put_examples(connection, sid, {paper.id: MORE}, NOW + timedelta(minutes=n), 3)
    with engine.connect() as connection:
        kept = [e.paper_id for e in store.get(connection, sid).examples]
    assert kept == ["2406.00003", "2406.00004", "2406.00005"]


def test_forget_reset_and_deleting_the_subscriber(engine: Engine) -> None:
    sid = person_with_papers(engine)
    with transaction(engine) as connection:
        person = store.get(connection, sid)
        votes = {p.id: MORE for p in PAPERS[:3]}
        record_votes(connection, person, votes, NOW, issue_id=None, via="cli")
        assert forget_example(connection, person, "2406.00001", NOW)
        assert not forget_example(connection, person, "2406.00001", NOW)
        assert [e.paper_id for e in store.get(connection, sid).examples] == [
            "2406.00002",
            "2406.00003",
        ]
        assert reset_learning(connection, person, NOW) == 2
        assert store.get(connection, sid).examples == ()
        assert store.get(connection, sid).topics == ("graphs",)
        record_votes(connection, person, {"2406.00004": LESS}, NOW, issue_id=None, via="cli")
        store.delete_subscriber(connection, sid)
        left = connection.execute(text("SELECT count(*) FROM feedback_examples")).scalar_one()
    assert left == 0


def test_an_example_follows_its_paper_when_an_arxiv_id_replaces_the_title_hash(
    engine: Engine,
) -> None:
    sid = person_with_papers(engine)
    titled = Paper(
        paper_id_for("A paper seen first without an id", None),
        "A paper seen first without an id",
        "x",
    )
    ingest(engine, [titled], NOW)
    with transaction(engine) as connection:
        store.put_examples(connection, sid, {titled.id: MORE}, NOW, keep=10)
    ingest(engine, [Paper("2406.09999", titled.title, "x")], NOW)
    with engine.connect() as connection:
        assert [e.paper_id for e in store.get(connection, sid).examples] == ["2406.09999"]


def test_seeding_likes_stored_papers_and_keeps_new_ones_with_the_subscriber_only(
    engine: Engine,
) -> None:
    sid = person_with_papers(engine)
    listed = read_paper_list(
        "@article{a, title={Paper number 2}}\n"
        "@article{b, title={Brand new work}, abstract={About new things.}, eprint={2501.00042},"
        " archivePrefix={arXiv}}\n"
        "@article{c, title={Nowhere to be found}}\n"
    )
    with transaction(engine) as connection:
        person = store.get(connection, sid)
        plan = seed_profile(
            connection, SeedShelf(connection), person, listed, NOW, via="cli", limits=LIMITS
        )
    assert [p.id for p in plan.liked] == ["2406.00002"]
    assert plan.private == (SeedText("Brand new work", "About new things.", (), "2501.00042"),)
    assert plan.missing == ("Nowhere to be found",)
    with engine.connect() as connection:
        examples = store.get(connection, sid).examples
        stored = get_papers(connection, ["2501.00042"])
        seeds = [e["detail"] for e in store.events(connection, sid) if e["kind"] == "seed"]
        papers = connection.execute(text("SELECT count(*) FROM papers")).scalar_one()
    assert [(e.paper_id, e.seed) for e in examples] == [
        ("2406.00002", None),
        (examples[1].paper_id, plan.private[0]),
    ]
    assert is_private(examples[1].paper_id)
    assert stored == {} and papers == len(PAPERS)  # only sources write the paper store
    assert seeds == [
        {"via": "cli", "liked": 1, "private": 1, "missing": 0 + 1, "cut": 0, "pruned": 0}
    ]
    with transaction(engine) as connection:
        assert forget_example(connection, store.get(connection, sid), examples[1].paper_id, NOW)
        assert [e.paper_id for e in store.get(connection, sid).examples] == ["2406.00002"]


def test_clicks_and_seeds_together_keep_only_the_newest_examples(engine: Engine) -> None:
    sid = person_with_papers(engine)
    limits = SeedLimits(per_list=50, per_subscriber=4)
    with transaction(engine) as connection:
        person = store.get(connection, sid)
        record_votes(connection, person, {"2406.00001": MORE}, NOW, issue_id=None, via="cli")
        for n in range(3):
            listed = read_paper_list(
                f"@article{{a, title={{Seed {n}a}}, abstract={{x}}}}\n"
                f"@article{{b, title={{Seed {n}b}}, abstract={{y}}}}\n"
            )
            at = NOW + timedelta(minutes=n + 1)
            seed_profile(
                connection, SeedShelf(connection), person, listed, at, via="web", limits=limits
            )
        record_votes(
            connection,
            person,
            {"2406.00002": LESS},
            NOW + timedelta(hours=1),
            issue_id=None,
            via="cli",
            keep=4,
        )
    with engine.connect() as connection:
        kept = store.get(connection, sid).examples
        left = connection.execute(text("SELECT count(*) FROM private_examples")).scalar_one()
    titles = [e.seed.title if e.seed else e.paper_id for e in kept]
    assert titles == ["Seed 1b", "Seed 2a", "Seed 2b", "2406.00002"]  # the oldest went first
    assert left == 3


def test_a_source_overwrites_what_a_seed_list_once_typed_into_the_paper_store(
    engine: Engine,
) -> None:
    """Databases from before private seeds: a seed-made paper ("seed", first seen 1970) gets the
    source's title, authors, abstract and first-seen time when a source brings it."""
    typed = Paper(
        "2501.00042",
        "A made-up title",
        "A long made-up abstract " * 20,
        authors=("Nobody Real",),
        sources=("seed",),
    )
    with transaction(engine) as connection:
        upsert(connection, [typed], SEEDED_FIRST_SEEN)
    real = Paper("2501.00042", "The real title", "Short real abstract.", authors=("Ada L",))
    later = NOW + timedelta(days=3)
    counts = ingest(engine, [real], later)
    with engine.connect() as connection:
        found = get_papers(connection, ["2501.00042"])["2501.00042"]
        recent = {p.id for p in list_papers(connection, later.date())}
    assert counts.merged == 1
    assert (found.title, found.abstract, found.authors) == (real.title, real.abstract, real.authors)
    assert found.first_seen == later and "seed" not in found.sources
    assert "2501.00042" in recent
    assert ingest(engine, [real], later + timedelta(days=1)).skipped == 1  # now a source's


def _alembic(engine: Engine, target: str) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_migration_0005_turns_clicks_into_examples_and_drops_learned_phrases(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    _alembic(engine, "0004")
    with transaction(engine) as connection:
        # The papers table as it was at 0004 (later revisions add columns).
        for paper in PAPERS[:2]:
            connection.execute(
                text(
                    "INSERT INTO papers (id, title_key, title, abstract, authors, sources,"
                    " first_seen) VALUES (:id, :key, :title, :abstract, '[]', '[]', :now)"
                ),
                {
                    "id": paper.id,
                    "key": paper.id,
                    "title": paper.title,
                    "abstract": paper.abstract,
                    "now": NOW,
                },
            )
        # The subscribers table as it was at 0004 (later revisions add columns).
        sid = connection.execute(
            text(
                "INSERT INTO subscribers (email, name, status, frequency, weekday, hour, timezone,"
                " token_version, created_at, updated_at) VALUES ('ada@example.org', '', 'active',"
                " 'daily', 0, 8, 'UTC', 1, :now, :now) RETURNING id"
            ),
            {"now": NOW},
        ).scalar_one()
        store.set_interests(
            connection,
            sid,
            "topic",
            ["graphs", "molecule generation"],
            {"graphs": 2.5, "molecule generation": 0.5},
        )
        store.set_interests(connection, sid, "mute", ["audio", "speech tricks"])
        clicks = [
            {"paper": "2406.00001", "d": 1, "issue": None, "added": ["molecule generation"]},
            {"paper": "2406.00002", "d": -1, "issue": None, "muted": ["speech tricks"]},
            {"paper": "2406.00001", "d": -1, "issue": None, "weakened": ["graphs"]},
            {"paper": "9999.99999", "d": 1, "issue": None, "added": []},  # no longer stored
        ]
        for n, detail in enumerate(clicks):
            store.record_event(
                connection, sid, "feedback", NOW + timedelta(minutes=n), detail=detail
            )
    _alembic(engine, "head")
    with engine.connect() as connection:
        person = store.get(connection, sid)
    engine.dispose()
    assert [(i.kind, i.phrase, i.weight) for i in person.interests] == [
        ("topic", "graphs", 1.0),
        ("mute", "audio", 1.0),
    ]
    assert person.examples == (
        Example("2406.00002", LESS, NOW + timedelta(minutes=1)),
        Example("2406.00001", LESS, NOW + timedelta(minutes=2)),
    )
