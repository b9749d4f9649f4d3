"""Reading the delivery ledger: row states, retries that fall due, counts by status, the rows
with their addresses, which (issue, subscriber) pairs are finished, the newest issues' figures
and which papers an issue sent. Reads deliveries; ``list_deliveries`` also reads subscribers
(the address), ``finished_pairs`` and ``recent_issue_figures`` also read issues. Writes nothing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from digest.issues import recent_issues
from digest.sending.ledger.rows import (
    FINISHED,
    STATUSES,
    Delivery,
    DeliveryStatus,
    LedgerRow,
    id_chunks,
    in_scope,
)
from digest.sending.scope import SendScope
from papercore.db.schema import deliveries, issues, subscribers
from papercore.papers import utc


def states(
    connection: Connection, issue_id: int, subscriber_ids: Sequence[int]
) -> dict[int, LedgerRow]:
    """The rows of these subscribers for the issue (missing ones are absent)."""
    if not subscriber_ids:
        return {}
    rows = connection.execute(
        select(
            deliveries.c.subscriber_id,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt_at,
        ).where(deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id.in_(subscriber_ids))
    )
    return {
        r.subscriber_id: LedgerRow(
            r.subscriber_id,
            r.status,
            r.attempts,
            utc(r.next_attempt_at) if r.next_attempt_at else None,
        )
        for r in rows
    }


def due_retries(
    connection: Connection, scope: SendScope, due_by: datetime, limit: int = 500
) -> list[int]:
    """Up to ``limit`` subscribers of the scope whose deferred or pending message is due by
    ``due_by``, in id order."""
    found: list[int] = []
    for chunk in id_chunks(scope):
        rows = connection.execute(
            select(deliveries.c.subscriber_id)
            .where(
                in_scope(scope, chunk),
                (deliveries.c.status == "pending")
                | ((deliveries.c.status == "deferred") & (deliveries.c.next_attempt_at <= due_by)),
            )
            .order_by(deliveries.c.subscriber_id)
            .limit(limit - len(found))
        )
        found.extend(int(r.subscriber_id) for r in rows)
        if len(found) >= limit:
            break
    return found


def next_retry_at(connection: Connection, scope: SendScope) -> datetime | None:
    """When the earliest deferred message of the scope becomes due (None: nothing deferred)."""
    earliest: datetime | None = None
    for chunk in id_chunks(scope):
        found = connection.execute(
            select(func.min(deliveries.c.next_attempt_at)).where(
                in_scope(scope, chunk), deliveries.c.status == "deferred"
            )
        ).scalar_one_or_none()
        if found and (earliest is None or utc(found) < earliest):
            earliest = utc(found)
    return earliest


def counts_in(connection: Connection, scope: SendScope) -> dict[str, int]:
    """The scope's rows counted by status (every status present, zero when none)."""
    found: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for chunk in id_chunks(scope):
        rows = connection.execute(
            select(deliveries.c.status, func.count())
            .where(in_scope(scope, chunk))
            .group_by(deliveries.c.status)
        )
        for status, n in rows:
            found[status] += int(n)
    return found


def counts(connection: Connection, issue_id: int) -> dict[str, int]:
    """The whole issue's rows counted by status (every status present, zero when none)."""
    return counts_in(connection, SendScope(issue_id))


def unfinished(found: dict[str, int]) -> int:
    """How many rows of these counts still wait to be sent (pending, deferred or in flight)."""
    return found["pending"] + found["deferred"] + found["sending"]


def list_deliveries(
    connection: Connection,
    issue_id: int | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[Delivery]:
    """Deliveries with the subscriber's address, newest issue first, then by subscriber id."""
    query = select(deliveries, subscribers.c.email).join(
        subscribers, subscribers.c.id == deliveries.c.subscriber_id
    )
    if issue_id is not None:
        query = query.where(deliveries.c.issue_id == issue_id)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    query = query.order_by(deliveries.c.issue_id.desc(), deliveries.c.subscriber_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Delivery(
            issue_id=r.issue_id,
            subscriber_id=r.subscriber_id,
            email=r.email,
            status=r.status,
            attempts=r.attempts,
            last_reply=r.last_reply,
            message_id=r.message_id,
            papers=len(r.paper_ids or ()),
            size_bytes=r.size_bytes,
            next_attempt_at=utc(r.next_attempt_at) if r.next_attempt_at else None,
            updated_at=utc(r.updated_at),
            sent_at=utc(r.sent_at) if r.sent_at else None,
        )
        for r in connection.execute(query)
    ]


def finished_pairs(
    connection: Connection, dates: Collection[date], subscriber_ids: Sequence[int]
) -> set[tuple[date, str, int]]:
    """(issue date, frequency, subscriber id) of these subscribers whose delivery of an issue
    dated one of ``dates`` is finished (sent, failed, skipped or unknown)."""
    if not dates or not subscriber_ids:
        return set()
    rows = connection.execute(
        select(issues.c.issue_date, issues.c.frequency, deliveries.c.subscriber_id)
        .join(deliveries, deliveries.c.issue_id == issues.c.id)
        .where(
            issues.c.issue_date.in_(dates),
            deliveries.c.subscriber_id.in_(subscriber_ids),
            deliveries.c.status.in_(FINISHED),
        )
    )
    return {(r.issue_date, r.frequency, int(r.subscriber_id)) for r in rows}


@dataclass(frozen=True, slots=True)
class IssueFigures:
    id: int
    issue_date: date
    frequency: str
    status: str
    deliveries: dict[str, int]


def recent_issue_figures(connection: Connection, limit: int = 3) -> list[IssueFigures]:
    """The newest ``limit`` issues with their deliveries counted by status."""
    return [
        IssueFigures(
            issue.id, issue.date, issue.frequency, issue.status, counts(connection, issue.id)
        )
        for issue in recent_issues(connection, limit)
    ]


def papers_sent_most(connection: Connection, issue_id: int, limit: int) -> list[str]:
    """Ids of the papers ``issue_id`` actually sent, most widely sent first (at most ``limit``)."""
    found: Counter[str] = Counter()
    rows = connection.execute(
        select(deliveries.c.paper_ids).where(
            deliveries.c.issue_id == issue_id, deliveries.c.status == "sent"
        )
    )
    for (paper_ids,) in rows:
        found.update(paper_ids or ())
    return [paper_id for paper_id, _ in found.most_common(limit)]


def papers_delivered(connection: Connection, issue_id: int, subscriber_id: int) -> list[str]:
    """Ids of the papers one subscriber's message of ``issue_id`` showed, in their order."""
    row = connection.execute(
        select(deliveries.c.paper_ids).where(
            deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id == subscriber_id
        )
    ).first()
    return list(row.paper_ids or ()) if row is not None else []


def find_by_message_id(connection: Connection, message_id: str) -> tuple[int, int] | None:
    """(issue id, subscriber id) of the delivery whose message had this Message-ID."""
    row = connection.execute(
        select(deliveries.c.issue_id, deliveries.c.subscriber_id)
        .where(deliveries.c.message_id == message_id)
        .limit(1)
    ).first()
    return (int(row.issue_id), int(row.subscriber_id)) if row is not None else None


# A message in one of these states was claimed (composed, given its Message-ID and handed to the
# relay at least once): a report about it can be ours. Pending and skipped rows never were.
LEFT: tuple[DeliveryStatus, ...] = (
    "sending",
    "sent",
    "deferred",
    "failed",
    "unknown",
    "bounced",
    "complained",
)


@dataclass(frozen=True, slots=True)
class LeftDelivery:
    """A delivery whose message left: its Message-ID, when it left and the relay's last reply."""

    issue_id: int
    subscriber_id: int
    message_id: str | None
    left_at: datetime
    reply: str


def _left(row: Any) -> LeftDelivery:
    return LeftDelivery(
        int(row.issue_id),
        int(row.subscriber_id),
        row.message_id,
        utc(row.sent_at or row.updated_at),
        str(row.last_reply or ""),
    )


_LEFT_COLUMNS = (
    deliveries.c.issue_id,
    deliveries.c.subscriber_id,
    deliveries.c.message_id,
    deliveries.c.sent_at,
    deliveries.c.updated_at,
    deliveries.c.last_reply,
)


def left_delivery(connection: Connection, issue_id: int, subscriber_id: int) -> LeftDelivery | None:
    """The delivery of (issue, subscriber) if its message was claimed; None if it never was."""
    row = connection.execute(
        select(*_LEFT_COLUMNS).where(
            deliveries.c.issue_id == issue_id,
            deliveries.c.subscriber_id == subscriber_id,
            deliveries.c.status.in_(LEFT),
        )
    ).first()
    return _left(row) if row is not None else None


def left_with_reply(
    connection: Connection, subscriber_id: int, provider_id: str, limit: int = 100
) -> LeftDelivery | None:
    """The newest of the subscriber's last ``limit`` deliveries that left whose relay reply
    names ``provider_id`` (the id a provider's SMTP relay answers with, "queued as <id>")."""
    if len(provider_id) < 8:
        return None  # too short to be unguessable
    rows = connection.execute(
        select(*_LEFT_COLUMNS)
        .where(deliveries.c.subscriber_id == subscriber_id, deliveries.c.status.in_(LEFT))
        .order_by(deliveries.c.issue_id.desc())
        .limit(limit)
    )
    for row in rows:
        words = re.split(r"[\s<>\[\]();,=]+", str(row.last_reply or ""))
        if provider_id in words:
            return _left(row)
    return None


def sent_since(connection: Connection, since: datetime) -> dict[str, int]:
    """Messages that left since ``since`` (by when they were sent), counted by what became of
    them: sent, bounced, complained."""
    rows = connection.execute(
        select(deliveries.c.status, func.count())
        .where(
            deliveries.c.sent_at >= since,
            deliveries.c.status.in_(("sent", "bounced", "complained")),
        )
        .group_by(deliveries.c.status)
    )
    found = dict.fromkeys(("sent", "bounced", "complained"), 0)
    for status, n in rows:
        found[status] = int(n)
    return found


def refused_since(connection: Connection, since: datetime) -> dict[tuple[str, str], int]:
    """Messages that never left since ``since`` (by when their row last changed) and ended
    ``failed`` (the relay refused them) or ``bounced`` (a bounce named them after that), counted
    per (status, last reply); the caller decides which refusals were bounces."""
    rows = connection.execute(
        select(deliveries.c.status, deliveries.c.last_reply, func.count())
        .where(
            deliveries.c.sent_at.is_(None),
            deliveries.c.status.in_(("failed", "bounced")),
            deliveries.c.updated_at >= since,
        )
        .group_by(deliveries.c.status, deliveries.c.last_reply)
    )
    return {(str(status), str(reply or "")): int(n) for status, reply, n in rows}
