"""Shared pieces for the sending tests: subscribers, a simple message factory, ledger reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Connection, Engine, select

from digest.issues import Issue, open_issue
from digest.sending.messages import Prepared
from papercore.db.engine import transaction
from papercore.db.schema import deliveries
from subscribers import store
from subscribers.model import Subscriber
from tests.integration.inbound import support as inbound_support

ISSUE_DATE = date(2026, 11, 21)


def add_subscribers(engine: Engine, now: datetime, emails: list[str]) -> list[int]:
    with transaction(engine) as connection:
        return [
            store.add(connection, e, now, topics=["graph neural networks"], status="active")
            for e in emails
        ]


def an_issue(engine: Engine, now: datetime) -> Issue:
    with transaction(engine) as connection:
        return open_issue(connection, ISSUE_DATE, "daily", now)


@dataclass
class SimpleFactory:
    """One small text message per subscriber (no ranking); None for addresses in ``empty``."""

    issue_id: int
    now: datetime
    empty: frozenset[str] = frozenset()
    sender: str = "digest@example.org"
    body_lines: int = 3

    def why_none(self, subscriber: Subscriber) -> str:
        return "no new papers match this subscriber"

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None:
        if subscriber.email in self.empty:
            return None
        message = EmailMessage()
        message["From"] = f"Paper Digest <{self.sender}>"
        message["To"] = subscriber.email
        message["Subject"] = f"Issue {self.issue_id}"
        message["Date"] = format_datetime(self.now)
        message_id = inbound_support.message_id(self.issue_id, subscriber.id)  # a send's keyed id
        message["Message-ID"] = message_id
        message.set_content("\n".join(f".line {i}" for i in range(self.body_lines)))
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        return Prepared(subscriber.id, subscriber.email, message_id, data, ("p1", "p2"))


def ledger_rows(engine: Engine, issue_id: int) -> dict[int, tuple[str, int, str | None]]:
    """subscriber id → (status, attempts, last_reply)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                deliveries.c.subscriber_id,
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.last_reply,
            ).where(deliveries.c.issue_id == issue_id)
        )
        return {r.subscriber_id: (r.status, r.attempts, r.last_reply) for r in rows}
