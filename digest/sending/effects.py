"""What an outcome changes beyond the ledger: the papers a subscriber has now received, and
the suppression of an address whose mailbox does not exist.

``delivered_many`` and ``remember_many`` are page-sized versions of ``digest.ranking``'s memory
functions (same table, same rules), so the send loop pays one statement per page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from digest.db.schema import delivered_papers, subscribers
from digest.ranking import remember
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
    if delivered:  # one statement for the batch: this runs for every message sent
        connection.execute(
            update(subscribers)
            .where(subscribers.c.id == bindparam("b_id"))
            .values(last_digest_at=bindparam("b_at", type_=subscribers.c.last_digest_at.type)),
            [{"b_id": sid, "b_at": as_of or now} for sid, _, as_of in delivered],
        )


def delivered_many(connection: Connection, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
    """``delivered_ids`` for a page of subscribers in one query (every id gets a set)."""
    found: dict[int, set[str]] = {sid: set() for sid in subscriber_ids}
    if subscriber_ids:
        rows = connection.execute(
            select(delivered_papers.c.subscriber_id, delivered_papers.c.paper_id).where(
                delivered_papers.c.subscriber_id.in_(list(subscriber_ids))
            )
        )
        for sid, paper_id in rows:
            found[sid].add(paper_id)
    return found


def remember_many(
    connection: Connection,
    issue_id: int,
    delivered: Sequence[tuple[int, tuple[str, ...]]],
    now: datetime,
) -> None:
    """``remember`` for a batch of subscribers in one statement (first record kept)."""
    rows = [
        {"subscriber_id": sid, "paper_id": p, "issue_id": issue_id, "delivered_at": now}
        for sid, paper_ids in delivered
        for p in dict.fromkeys(paper_ids)
    ]
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(postgresql.insert(delivered_papers).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        connection.execute(sqlite.insert(delivered_papers).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - the two supported databases are above
        for sid, paper_ids in delivered:
            remember(connection, sid, issue_id, paper_ids, now)


def bounce(connection: Connection, bounced: Sequence[tuple[int, str, str]], now: datetime) -> None:
    """Suppress each address the receiver said does not exist, and mark its subscriber bounced."""
    for subscriber_id, address, reply in bounced:
        store.suppress(connection, address, "bounce", now, detail=reply[:500])
        store.update_fields(connection, subscriber_id, now, status="bounced")
        store.record_event(connection, subscriber_id, "bounce", now, detail={"reply": reply[:500]})
