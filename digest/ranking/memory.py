"""Memory of what each subscriber already received: a paper is never sent to them twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from digest.db.schema import delivered_papers


def delivered_ids(connection: Connection, subscriber_id: int) -> set[str]:
    """Ids of every paper already delivered to the subscriber."""
    rows = connection.execute(
        select(delivered_papers.c.paper_id).where(delivered_papers.c.subscriber_id == subscriber_id)
    )
    return {row.paper_id for row in rows}


def remember(
    connection: Connection,
    subscriber_id: int,
    issue_id: int | None,
    paper_ids: Iterable[str],
    now: datetime,
) -> None:
    """Record the papers as delivered to the subscriber, in the caller's transaction.
    Remembering a paper twice keeps the first record (safe to repeat)."""
    rows = [
        {"subscriber_id": subscriber_id, "paper_id": p, "issue_id": issue_id, "delivered_at": now}
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
        known = delivered_ids(connection, subscriber_id)
        fresh = [r for r in rows if r["paper_id"] not in known]
        if fresh:
            connection.execute(delivered_papers.insert(), fresh)
