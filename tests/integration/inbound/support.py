"""Shared pieces for the inbound tests: subscribers whose digest was sent, and what became of
them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from digest.compose.message_ids import MessageIds
from digest.issues import open_issue
from digest.sending import ledger
from digest.sending.ledger import Claim, Outcome
from papercore.db.engine import transaction
from subscribers import store

CORPUS = Path(__file__).parents[2] / "fixtures" / "inbound"


def sent_digest(engine: Engine, now: datetime, emails: list[str]) -> tuple[int, dict[str, int]]:
    """An issue sent to a new active subscriber per address: (issue id, address → id). Each
    message's Message-ID is the keyed one a send gives it (``message_id``)."""
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
            connection,
            issue.id,
            [
                Outcome(sid, "sent", f"250 2.0.0 Ok: queued as {relay_id(issue.id, sid)}")
                for sid in ids.values()
            ],
            now,
        )
    return issue.id, ids


def relay_id(issue_id: int, subscriber_id: int) -> str:
    """The id the (provider's) relay answered the message of (issue, subscriber) with."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"relay:{issue_id}:{subscriber_id}"))


def message_id(issue_id: int, subscriber_id: int) -> str:
    """The Message-ID a send gives (issue, subscriber) under the tests' secret key (the
    ``settings`` fixture's and the ``cli`` fixture's)."""
    return _IDS.digest(issue_id, subscriber_id)


# the tests' secret key and the default sender.from_address's domain (digest@example.org)
_IDS = MessageIds("test-secret-key-0123456789abcdef0123456789", "example.org")


def delivery_status(engine: Engine, issue_id: int, email: str) -> str:
    with engine.connect() as connection:
        rows = ledger.list_deliveries(connection, issue_id)
    return next(r.status for r in rows if r.email == email)


def subscriber_status(engine: Engine, email: str) -> tuple[str, bool]:
    """(status, suppressed?)"""
    with engine.connect() as connection:
        person = store.get_by_email(connection, email)
        return person.status, store.is_suppressed(connection, email)
