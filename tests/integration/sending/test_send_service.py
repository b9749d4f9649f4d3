"""The send service's entry points: an explicit subscriber list, the async entry point with a stop
request, and candidate papers "new to them since their last digest"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from digest.ingest import ingest_locations
from digest.issues import get_issue
from digest.sending.factory import build_factory
from digest.sending.results import SHUTDOWN
from digest.sending.scope import SendScope
from digest.sending.service import send_issue, send_issue_async
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import deliveries, papers
from subscribers import store
from tests.conftest import SAMPLE_PAGES
from tests.integration.sending.support import (
    SimpleFactory,
    add_subscribers,
    an_issue,
    ledger_rows,
)


def test_a_subscriber_list_sends_to_exactly_those(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    ids = add_subscribers(engine, now, [f"r{i}@example.org" for i in range(8)])
    issue = an_issue(engine, now)
    transport = RecordingTransport()
    chosen = [ids[1], ids[4], ids[7]]
    report = send_issue(
        engine,
        settings,
        issue,
        now,
        transport=transport,
        factory=SimpleFactory(issue.id, now),
        scope=SendScope(issue.id).narrowed(chosen),
    )
    assert report.counts.sent == 3
    assert sorted(s.recipient for s in transport.sent) == [
        "r1@example.org",
        "r4@example.org",
        "r7@example.org",
    ]
    assert {sid: row[0] for sid, row in ledger_rows(engine, issue.id).items()} == dict.fromkeys(
        chosen, "sent"
    )


async def test_a_stop_request_pauses_with_the_reason_and_resume_finishes(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    ids = add_subscribers(engine, now, [f"r{i}@example.org" for i in range(30)])
    issue = an_issue(engine, now)
    transport = RecordingTransport(delay=0.001)
    report = await send_issue_async(
        engine,
        settings,
        issue,
        now,
        transport=transport,
        factory=SimpleFactory(issue.id, now),
        should_stop=lambda: len(transport.sent) >= 5,
    )
    assert report.paused == SHUTDOWN
    with engine.connect() as connection:
        stopped = get_issue(connection, issue.id)
    assert stopped.status == "paused" and stopped.pause_reason == SHUTDOWN
    statuses = {row[0] for row in ledger_rows(engine, issue.id).values()}
    assert statuses <= {"sent", "pending"}
    await send_issue_async(
        engine, settings, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    assert sorted(s.recipient for s in transport.sent) == sorted(
        f"r{i}@example.org" for i in range(30)
    )
    assert {row[0] for row in ledger_rows(engine, issue.id).values()} == {"sent"}
    assert len(ledger_rows(engine, issue.id)) == len(ids)


def test_papers_are_new_to_a_subscriber_since_their_last_digest(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    lexical = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"semantic": "off"})}
    )
    ingest_locations(engine, [str(p) for p in SAMPLE_PAGES], "page", lexical.sources, now)
    with transaction(engine) as connection:
        every = sorted(connection.execute(select(papers.c.id)).scalars())
        fresh = set(every[:4])  # first seen an hour ago; the rest a month ago
        connection.execute(update(papers).values(first_seen=now - timedelta(days=30)))
        connection.execute(
            update(papers).where(papers.c.id.in_(fresh)).values(first_seen=now - timedelta(hours=1))
        )
    topics = ["language models", "diffusion models", "reinforcement learning", "transformers"]
    people = {}
    with transaction(engine) as connection:
        for name, last in (
            ("first", None),
            ("recent", now - timedelta(days=3)),
            ("away", now - timedelta(days=60)),  # a long downtime: nothing may be lost
        ):
            sid = store.add(connection, f"{name}@example.org", now, topics=topics)
            store.update_fields(connection, sid, now, status="active", last_digest_at=last)
            people[name] = sid
    issue = an_issue(engine, now)
    factory = build_factory(engine, lexical, issue, now)
    send_issue(engine, lexical, issue, now, transport=RecordingTransport(), factory=factory)
    with engine.connect() as connection:
        rows = connection.execute(
            select(deliveries.c.subscriber_id, deliveries.c.paper_ids).where(
                deliveries.c.issue_id == issue.id
            )
        ).all()
        last = {name: store.get(connection, sid).last_digest_at for name, sid in people.items()}
    got = {r.subscriber_id: set(r.paper_ids) for r in rows}
    assert got[people["first"]] and got[people["first"]] <= fresh  # the lookback
    assert got[people["recent"]] and got[people["recent"]] <= fresh
    assert got[people["away"]] - fresh  # a month-old paper they never had a digest for
    assert last == dict.fromkeys(people, now)
