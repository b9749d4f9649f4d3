"""What an outcome changes beyond the ledger: the papers a subscriber has now received, and
the suppression of an address whose mailbox does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, update

from digest.db.schema import subscribers
from digest.ranking import remember
from subscribers import store


def remember_delivered(
    connection: Connection,
    issue_id: int,
    delivered: Sequence[tuple[int, tuple[str, ...]]],
    now: datetime,
) -> None:
    """Each subscriber's delivered papers join their memory; last_digest_at moves to now."""
    for subscriber_id, paper_ids in delivered:
        remember(connection, subscriber_id, issue_id, paper_ids, now)
    if delivered:  # one statement for the batch: this runs for every message sent
        connection.execute(
            update(subscribers)
            .where(subscribers.c.id == bindparam("b_id"))
            .values(last_digest_at=now),
            [{"b_id": subscriber_id} for subscriber_id, _ in delivered],
        )


def bounce(connection: Connection, bounced: Sequence[tuple[int, str, str]], now: datetime) -> None:
    """Suppress each address the receiver said does not exist, and mark its subscriber bounced."""
    for subscriber_id, address, reply in bounced:
        store.suppress(connection, address, "bounce", now, detail=reply[:500])
        store.update_fields(connection, subscriber_id, now, status="bounced")
        store.record_event(connection, subscriber_id, "bounce", now, detail={"reply": reply[:500]})
