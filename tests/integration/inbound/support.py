"""Shared pieces for the inbound tests: subscribers whose digest was sent, and what became of
them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from digest.issues import open_issue
from digest.sending import ledger
from digest.sending.ledger import Claim, Outcome
from papercore.db.engine import transaction
from subscribers import store

CORPUS = Path(__file__).parents[2] / "fixtures" / "inbound"


def sent_digest(engine: Engine, now: datetime, emails: list[str]) -> tuple[int, dict[str, int]]:
    """An issue sent to a new active subscriber per address: (issue id, address → id). Each
    message's Message-ID is ``<issue.subscriber@digest.example.org>``."""
    with transaction(engine) as connection:
        issue = open_issue(connection, date(2026, 11, 21), "daily", now)
        ids = {
            e: store.add(connection, e, now, topics=["graph neural networks"], status="active")
            for e in emails
        }
        ledger.add_pending(connection, issue.id, list(ids.values()), now)
        ledger.claim(
            connection,
            issue.id,
            [Claim(sid, message_id(issue.id, sid), ("p1",), 1000) for sid in ids.values()],
            now,
        )
        ledger.finish(
            connection, issue.id, [Outcome(sid, "sent", "250 ok") for sid in ids.values()], now
        )
    return issue.id, ids


def message_id(issue_id: int, subscriber_id: int) -> str:
    return f"<{issue_id}.{subscriber_id}@digest.example.org>"


def delivery_status(engine: Engine, issue_id: int, email: str) -> str:
    with engine.connect() as connection:
        rows = ledger.list_deliveries(connection, issue_id)
    return next(r.status for r in rows if r.email == email)


def subscriber_status(engine: Engine, email: str) -> tuple[str, bool]:
    """(status, suppressed?)"""
    with engine.connect() as connection:
        person = store.get_by_email(connection, email)
        return person.status, store.is_suppressed(connection, email)
