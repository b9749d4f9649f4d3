"""Memory of what each subscriber already received: a paper is never sent to them twice.

All delivered_papers SQL is here: per subscriber (``delivered_ids``, ``remember``), page-sized
(``delivered_many``, ``remember_many``: one statement for a page of subscribers) and ``rekey``
(a paper's id changed at ingest)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from papercore.db.schema import delivered_papers


def delivered_ids(connection: Connection, subscriber_id: int) -> set[str]:
    """Ids of every paper already delivered to the subscriber."""
    return delivered_many(connection, [subscriber_id])[subscriber_id]


def delivered_many(connection: Connection, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
    """``delivered_ids`` for a page of subscribers in one query (every id gets a set)."""
    found: dict[int, set[str]] = {sid: set() for sid in subscriber_ids}
    if subscriber_ids:
        rows = connection.execute(
            select(delivered_papers.c.subscriber_id, delivered_papers.c.paper_id).where(
                delivered_papers.c.subscriber_id.in_(list(found))
            )
        )
        for sid, paper_id in rows:
            found[sid].add(paper_id)
    return found


def remember(
    connection: Connection,
    subscriber_id: int,
    issue_id: int | None,
    paper_ids: Iterable[str],
    now: datetime,
) -> None:
    """Record the papers as delivered to the subscriber, in the caller's transaction.
    Remembering a paper twice keeps the first record (safe to repeat)."""
    remember_many(connection, issue_id, [(subscriber_id, tuple(paper_ids))], now)


def remember_many(
    connection: Connection,
    issue_id: int | None,
    delivered: Sequence[tuple[int, Sequence[str]]],
    now: datetime,
) -> None:
    """``remember`` for a batch of (subscriber id, paper ids) in one statement, in the caller's
    transaction (first record kept)."""
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
        known = delivered_many(connection, [sid for sid, _ in delivered])
        fresh = [
            {"subscriber_id": sid, "paper_id": p, "issue_id": issue_id, "delivered_at": now}
            for sid, paper_ids in delivered
            for p in dict.fromkeys(paper_ids)
            if p not in known[sid]
        ]
        if fresh:
            connection.execute(delivered_papers.insert(), fresh)


def rekey(connection: Connection, old_id: str, new_id: str) -> None:
    """Carry the memory of paper ``old_id`` over to ``new_id`` (an arXiv id replacing a title
    hash), so that nobody gets the same paper again under its new id."""
    connection.execute(
        update(delivered_papers)
        .where(delivered_papers.c.paper_id == old_id)
        .values(paper_id=new_id)
    )
