"""A subscriber's clicks reach their digest: the builder gives the ranker the papers they liked,
also ones older than the issue's pool, read from the paper store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from digest.compose import IssueInfo
from digest.ingest import ingest_locations
from digest.personal import PersonalDigests
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import papers
from subscribers.model import Example, Interest, Subscriber
from tests.conftest import SAMPLE_PAGES

LIKED = ("SpikeGPT", "One Timestep is All You Need")  # spiking neural networks, a month old
SIBLING = "Unleashing the Potential of Spiking Neural Networks"  # fresh, in the pool


def lexical(settings: Settings) -> Settings:
    ranking = settings.ranking.model_copy(update={"semantic": "off"})
    return settings.model_copy(update={"ranking": ranking})


def stored(engine: Engine, settings: Settings, now: datetime) -> dict[str, str]:
    """The sample papers, fresh but for the liked ones (outside the pool): title -> id."""
    ingest_locations(engine, [str(p) for p in SAMPLE_PAGES], "page", settings.sources, now)
    with transaction(engine) as connection:
        ids = dict(connection.execute(select(papers.c.title, papers.c.id)).all())
        old = [i for t, i in ids.items() if t.startswith(LIKED)]
        assert len(old) == 2
        connection.execute(update(papers).values(first_seen=now - timedelta(hours=1)))
        connection.execute(
            update(papers).where(papers.c.id.in_(old)).values(first_seen=now - timedelta(days=30))
        )
    return ids


def digests_of(engine: Engine, settings: Settings, now: datetime) -> PersonalDigests:
    return PersonalDigests.build(engine, settings, IssueInfo(1, now.date(), "daily"), now)


def test_liked_papers_older_than_the_pool_bring_similar_new_ones(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = lexical(settings)
    ids = stored(engine, settings, now)
    liked = [i for t, i in ids.items() if t.startswith(LIKED)]
    person = Subscriber(1, "reader@example.org", interests=(Interest("topic", "hypergraphs"),))
    digests = digests_of(engine, settings, now)
    assert not set(liked) & {p.id for p in digests.ranker.papers}  # outside the pool
    before = digests.picks(person, set())
    assert not any(p.paper.title.startswith(SIBLING) for p in before)

    clicked = replace(
        person,
        examples=(
            *(Example(i, 1, now - timedelta(days=2)) for i in liked),
            Example("t:forgotten-paper", 1, now - timedelta(days=2)),  # no longer stored
        ),
    )
    after = digests.picks(clicked, set())
    sibling = [p for p in after if p.paper.title.startswith(SIBLING)]
    assert sibling, [p.paper.title for p in after]
    assert sibling[0].why[0].startswith("like: ")
    named = sibling[0].why[0].removeprefix("like: ")
    assert named in {t for t in ids if t.startswith(LIKED)}  # the liked paper's title
    # the typed topic keeps its place
    assert before[0].paper in [p.paper for p in after]


def test_a_page_of_subscribers_reads_their_example_papers_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = lexical(settings)
    ids = stored(engine, settings, now)
    liked = [i for t, i in ids.items() if t.startswith(LIKED)]
    page = [
        Subscriber(
            n,
            f"reader{n}@example.org",
            interests=(Interest("topic", "hypergraphs"),),
            examples=(Example(liked[n % 2], 1, now - timedelta(days=1)),),
        )
        for n in range(1, 5)
    ]
    digests = digests_of(engine, settings, now)
    with engine.connect() as connection:
        digests.prefetch_examples(connection, page)
    with transaction(engine) as connection:  # what was read for the page is what ranks it
        connection.execute(delete(papers).where(papers.c.id.in_(liked)))
    for person in page:
        picks = digests.picks(person, set())
        assert any(reason.startswith("like: ") for p in picks for reason in p.why)
