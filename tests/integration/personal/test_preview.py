"""The preview of a subscriber's next digest is the message that send then delivers: same
papers, same order, same reasons, including where the pool rules matter (a subscriber back
from a long pause, one who already received some of the papers, a first digest)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser

from sqlalchemy import Engine, func, select, update

from digest.ingest import ingest_locations
from digest.issues import open_issue
from digest.memory import remember
from digest.personal import Preview, preview_digest, preview_subscriber
from digest.sending.service import send_issue
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import deliveries, issues, papers
from subscribers import store
from tests.conftest import SAMPLE_PAGES

TOPICS = ["language models", "diffusion models", "reinforcement learning", "transformers"]


def listing(data: bytes) -> list[str]:
    """What a reader sees of each paper in a message's text part: its reason and its link,
    in order."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    part = message.get_body(("plain",))
    assert part is not None
    text = part.get_content()
    return [line for line in text.splitlines() if line.startswith(("Why: ", "Read: "))]


def lexical(settings: Settings) -> Settings:
    ranking = settings.ranking.model_copy(update={"semantic": "off"})
    return settings.model_copy(update={"ranking": ranking})


def aged_papers(engine: Engine, settings: Settings, now: datetime) -> dict[str, set[str]]:
    """The sample papers, first seen an hour, five days or thirty days ago."""
    ingest_locations(engine, [str(p) for p in SAMPLE_PAGES], "page", settings.sources, now)
    with transaction(engine) as connection:
        every = sorted(connection.execute(select(papers.c.id)).scalars())
        ages = {
            "hour": set(every[:40]),
            "days": set(every[40:100]),
            "month": set(every[100:]),
        }
        for age, delta in (("hour", 1 / 24), ("days", 5), ("month", 30)):
            connection.execute(
                update(papers)
                .where(papers.c.id.in_(ages[age]))
                .values(first_seen=now - timedelta(days=delta))
            )
    return ages


def add_people(engine: Engine, now: datetime) -> dict[str, int]:
    people = {}
    with transaction(engine) as connection:
        for name, last, topics in (
            ("first", None, TOPICS),
            ("back", now - timedelta(days=60), TOPICS),  # back from a long pause
            ("regular", now - timedelta(days=3), TOPICS),
            ("trending", None, []),
        ):
            sid = store.add(connection, f"{name}@example.org", now, topics=topics)
            store.update_fields(connection, sid, now, status="active", last_digest_at=last)
            people[name] = sid
    return people


def preview_of(engine: Engine, settings: Settings, email: str, now: datetime) -> Preview:
    with engine.connect() as connection:
        person = preview_subscriber(connection, email, [])
    return preview_digest(engine, settings, person, now)


def test_the_preview_is_the_message_then_sent(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = lexical(settings)
    ages = aged_papers(engine, settings, now)
    people = add_people(engine, now)
    earlier = preview_of(engine, settings, "regular@example.org", now)
    already = [p.paper.id for p in earlier.picks[:2]]
    with transaction(engine) as connection:  # they got these two in some earlier message
        remember(connection, people["regular"], None, already, now - timedelta(days=1))

    previews = {name: preview_of(engine, settings, f"{name}@example.org", now) for name in people}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(issues)).scalar_one() == 0

    with transaction(engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
    transport = RecordingTransport()
    report = send_issue(engine, settings, issue, now, transport=transport)
    assert report.counts.sent == len(people)

    with engine.connect() as connection:
        sent_ids = dict(
            connection.execute(
                select(deliveries.c.subscriber_id, deliveries.c.paper_ids).where(
                    deliveries.c.issue_id == issue.id
                )
            ).all()
        )
    for name, found in previews.items():
        assert found.issue.id == issue.id
        (delivered,) = transport.received_by(f"{name}@example.org")
        shown = listing(found.message.data)
        assert shown and shown == listing(delivered), name
        # the ledger keeps the papers in the order the message showed them (its plan)
        assert list(found.plan.paper_ids) == list(sent_ids[people[name]]), name
        assert {p.paper.id for p in found.picks} == set(sent_ids[people[name]]), name
        parsed = BytesParser(policy=policy.default).parsebytes(delivered)
        assert parsed["Subject"] == found.message.subject
        assert found.message.data == delivered  # byte for byte (no DKIM in tests)

    ids = {name: {p.paper.id for p in found.picks} for name, found in previews.items()}
    assert ids["first"] <= ages["hour"] | ages["days"]  # a first digest: the lookback
    assert ids["back"] & ages["month"]  # what they missed while away is not lost
    assert ids["regular"] <= ages["hour"]  # new since their last digest
    assert not ids["regular"] & set(already)  # and never twice


def test_a_preview_uses_the_stored_issue_of_its_day_and_writes_nothing(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = lexical(settings)
    aged_papers(engine, settings, now)
    with transaction(engine) as connection:
        yesterday = open_issue(connection, now.date() - timedelta(days=1), "daily", now)
    topical = preview_of(engine, settings, "", now)  # no subscriber, no topics: trending
    assert topical.issue.id == yesterday.id + 1 and topical.shown
    with transaction(engine) as connection:
        today = open_issue(connection, now.date(), "daily", now)
    again = preview_of(engine, settings, "", now)
    assert again.issue.id == today.id
    assert listing(again.message.data) == listing(topical.message.data)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(issues)).scalar_one() == 2
