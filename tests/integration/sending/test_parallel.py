"""Sending one issue in several worker processes on one machine (``sending.processes`` > 1): each
spawned child has its own engine, ranker, composer and SMTP pool; the parent settles the issue."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Engine

from digest.ingest import ingest_locations
from digest.sending.service import send_issue
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.config import Settings
from subscribers import store
from tests.conftest import SAMPLE_PAGES
from tests.integration.sending.support import add_subscribers, an_issue, ledger_rows

EMAILS = [f"reader{i}@example.org" for i in range(9)]


def test_two_processes_send_every_due_subscriber_exactly_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    two = settings.model_copy(
        update={
            "ranking": settings.ranking.model_copy(update={"semantic": "off"}),
            "sending": settings.sending.model_copy(update={"processes": 2}),
        }
    )
    ingest_locations(engine, [str(p) for p in SAMPLE_PAGES], "page", two.sources, now)
    ids = add_subscribers(engine, now, EMAILS)
    issue = an_issue(engine, now)
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        configured = two.model_copy(
            update={
                "smtp": two.smtp.model_copy(
                    update={"host": "127.0.0.1", "port": server.port, "security": "none"}
                )
            }
        )
        report = send_issue(engine, configured, issue, now)
    received = Counter(r for message in handler.received for r in message.recipients)
    assert received == Counter(EMAILS)  # every due subscriber, exactly one message each
    assert {sid: row[0] for sid, row in ledger_rows(engine, issue.id).items()} == dict.fromkeys(
        ids, "sent"
    )
    assert report.issue.status == "done"
    assert report.counts.sent == len(EMAILS)
    with engine.connect() as connection:
        assert all(store.get(connection, sid).last_digest_at is not None for sid in ids)
