"""What an outcome changes beyond the ledger: the papers a subscriber has now received, and
the suppression of an address whose mailbox does not exist. Writes no SQL itself: the memory's is
``digest.ranking.memory``'s (``remember_many``), the subscribers' ``subscribers.store``'s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from digest.memory import remember_many
from subscribers import store


def remember_delivered(
    connection: Connection,
    issue_id: int,
    delivered: Sequence[tuple[int, tuple[str, ...], datetime | None]],
    now: datetime,
) -> None:
    """Each subscriber's delivered papers join their memory; last_digest_at moves to the moment
    their message's papers were chosen as of (else ``now``). The only place it moves."""
    remember_many(connection, issue_id, [(sid, papers) for sid, papers, _ in delivered], now)
    store.mark_digest_received(connection, [(sid, as_of or now) for sid, _, as_of in delivered])


def bounce(connection: Connection, bounced: Sequence[tuple[int, str, str]], now: datetime) -> None:
    """Suppress each address the receiver said does not exist, and mark its subscriber bounced."""
    for subscriber_id, address, reply in bounced:
        store.suppress(connection, address, "bounce", now, detail=reply[:500])
        store.update_fields(connection, subscriber_id, now, status="bounced")
        store.record_event(connection, subscriber_id, "bounce", now, detail={"reply": reply[:500]})
