"""The delivery ledger (the deliveries table): the only truth about what was sent.

Each (issue, subscriber) row moves pending → sending → sent | deferred | failed | skipped, or to
unknown when the outcome of a transmission cannot be known. A row is marked ``sending`` before
its message leaves and gets its outcome after the server answers, so after a crash any row still
``sending`` may or may not have been delivered: ``recover_interrupted`` reports it as unknown.
All deliveries SQL is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Connection,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from papercore.db.schema import deliveries, subscribers, suppressions
from papercore.papers import utc
from subscribers.model import email_hash

DeliveryStatus = Literal["pending", "sending", "sent", "deferred", "failed", "skipped", "unknown"]
STATUSES: tuple[DeliveryStatus, ...] = (
    "pending",
    "sending",
    "sent",
    "deferred",
    "failed",
    "skipped",
    "unknown",
)
INTERRUPTED = "interrupted: the run stopped while this message was in flight; it may have arrived"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    """A message about to leave."""

    subscriber_id: int
    message_id: str
    paper_ids: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one transmission attempt."""

    subscriber_id: int
    status: DeliveryStatus
    reply: str
    attempted: bool = True
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    issue_id: int
    subscriber_id: int
    email: str
    status: DeliveryStatus
    attempts: int
    last_reply: str | None
    message_id: str | None
    papers: int
    size_bytes: int | None
    next_attempt_at: datetime | None
    updated_at: datetime
    sent_at: datetime | None


# Explicit subscriber lists are matched in chunks: one IN list stays well under SQLite's limit.
ID_CHUNK = 1000


def _in_range(after_id: int, up_to_id: int | None) -> Any:
    condition = deliveries.c.subscriber_id > after_id
    if up_to_id is not None:
        condition = and_(condition, deliveries.c.subscriber_id <= up_to_id)
    return condition


def _id_chunks(subscriber_ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    """``[None]`` (no filter) or the sorted ids cut into IN-list sized chunks."""
    if subscriber_ids is None:
        return [None]
    ordered = sorted(set(subscriber_ids))
    return [ordered[i : i + ID_CHUNK] for i in range(0, len(ordered), ID_CHUNK)]


def _among(chunk: Sequence[int] | None) -> Any:
    return true() if chunk is None else deliveries.c.subscriber_id.in_(chunk)


def seed_pending(
    connection: Connection,
    issue_id: int,
    frequency: str,
    now: datetime,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
) -> int:
    """A pending row for every subscriber of ``frequency`` in the id range (and, when given,
    among ``subscriber_ids``) that has none yet."""
    added = 0
    for chunk in _id_chunks(subscriber_ids):
        added += _seed_chunk(connection, issue_id, frequency, now, after_id, up_to_id, chunk)
    return added


def _seed_chunk(
    connection: Connection,
    issue_id: int,
    frequency: str,
    now: datetime,
    after_id: int,
    up_to_id: int | None,
    chunk: Sequence[int] | None,
) -> int:
    chosen = select(
        literal(issue_id),
        subscribers.c.id,
        literal("pending"),
        literal(0),
        literal([], type_=JSON),
        literal(now, type_=deliveries.c.created_at.type),
        literal(now, type_=deliveries.c.updated_at.type),
    ).where(
        subscribers.c.frequency == frequency,
        subscribers.c.id > after_id,
        ~exists().where(
            deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id == subscribers.c.id
        ),
    )
    if up_to_id is not None:
        chosen = chosen.where(subscribers.c.id <= up_to_id)
    if chunk is not None:
        chosen = chosen.where(subscribers.c.id.in_(chunk))
    columns = ["issue_id", "subscriber_id", "status", "attempts", "paper_ids"]
    result = connection.execute(
        insert(deliveries).from_select([*columns, "created_at", "updated_at"], chosen)
    )
    return max(result.rowcount or 0, 0)


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


def add_pending(
    connection: Connection, issue_id: int, subscriber_ids: Sequence[int], now: datetime
) -> None:
    """Pending rows for subscribers that have none (callers pass only missing ones)."""
    if subscriber_ids:
        connection.execute(
            insert(deliveries),
            [
                {
                    "issue_id": issue_id,
                    "subscriber_id": sid,
                    "status": "pending",
                    "attempts": 0,
                    "paper_ids": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for sid in subscriber_ids
            ],
        )


_BY_KEY = and_(
    deliveries.c.issue_id == bindparam("b_issue"),
    deliveries.c.subscriber_id == bindparam("b_subscriber"),
)


def claim(
    connection: Connection, issue_id: int, claims: Sequence[Claim], now: datetime
) -> set[int]:
    """Mark messages as leaving now (status sending), with their id, papers and size; returns
    the subscriber ids claimed. Only rows still pending, or deferred and due by ``now``, are
    claimed, so two runners can never both send one message: a row another runner claimed (or
    settled) first is left out and must not be sent."""
    if not claims:
        return set()
    due = (deliveries.c.status == "pending") | (
        (deliveries.c.status == "deferred")
        & (deliveries.c.next_attempt_at.is_(None) | (deliveries.c.next_attempt_at <= now))
    )
    # One conditional UPDATE decides which rows are ours (row locks make it atomic per row);
    # the per-message details follow for those rows only.
    claimed = set(
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.subscriber_id.in_([c.subscriber_id for c in claims]),
                due,
            )
            .values(status="sending", next_attempt_at=None, updated_at=now)
            .returning(deliveries.c.subscriber_id)
        ).scalars()
    )
    mine = [c for c in claims if c.subscriber_id in claimed]
    if not mine:
        return claimed
    connection.execute(
        update(deliveries)
        .where(_BY_KEY)
        .values(
            message_id=bindparam("b_message_id"),
            paper_ids=bindparam("b_paper_ids", type_=JSON),
            size_bytes=bindparam("b_size"),
        ),
        [
            {
                "b_issue": issue_id,
                "b_subscriber": c.subscriber_id,
                "b_message_id": c.message_id,
                "b_paper_ids": list(c.paper_ids),
                "b_size": c.size_bytes,
            }
            for c in mine
        ],
    )
    return claimed


def skip(
    connection: Connection, issue_id: int, skips: Sequence[tuple[int, str]], now: datetime
) -> None:
    """Mark subscribers as skipped for the issue, each with the reason."""
    if not skips:
        return
    connection.execute(
        update(deliveries)
        .where(_BY_KEY)
        .values(status="skipped", last_reply=bindparam("b_reason"), updated_at=now),
        [{"b_issue": issue_id, "b_subscriber": sid, "b_reason": why} for sid, why in skips],
    )


def finish(
    connection: Connection, issue_id: int, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Record the outcome of transmissions (and of claims given back unsent: attempted=False)."""
    if not outcomes:
        return
    connection.execute(
        update(deliveries)
        .where(_BY_KEY)
        .values(
            status=bindparam("b_status"),
            attempts=deliveries.c.attempts + bindparam("b_inc"),
            last_reply=func.coalesce(bindparam("b_reply"), deliveries.c.last_reply),
            next_attempt_at=bindparam("b_next", type_=deliveries.c.next_attempt_at.type),
            sent_at=bindparam("b_sent_at", type_=deliveries.c.sent_at.type),
            updated_at=now,
        ),
        [
            {
                "b_issue": issue_id,
                "b_subscriber": o.subscriber_id,
                "b_status": o.status,
                "b_inc": 1 if o.attempted else 0,
                "b_reply": o.reply or None,
                "b_next": o.next_attempt_at,
                "b_sent_at": now if o.status == "sent" else None,
            }
            for o in outcomes
        ],
    )


def recover_interrupted(
    connection: Connection,
    issue_id: int,
    now: datetime,
    *,
    resend_unknown: bool,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
) -> int:
    """Rows left ``sending`` by a run that died become ``unknown``; with resend_unknown, every
    unknown row goes back to pending. Returns how many rows were left in flight."""
    in_flight = 0
    for chunk in _id_chunks(subscriber_ids):
        found = connection.execute(
            update(deliveries)
            .where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.status == "sending",
                _in_range(after_id, up_to_id),
                _among(chunk),
            )
            .values(status="unknown", last_reply=INTERRUPTED, updated_at=now)
        ).rowcount
        in_flight += max(found or 0, 0)
        if resend_unknown:
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.issue_id == issue_id,
                    deliveries.c.status == "unknown",
                    _in_range(after_id, up_to_id),
                    _among(chunk),
                )
                .values(status="pending", updated_at=now)
            )
    return in_flight


def due_retries(
    connection: Connection,
    issue_id: int,
    due_by: datetime,
    after_id: int = 0,
    up_to_id: int | None = None,
    limit: int = 500,
    subscriber_ids: Sequence[int] | None = None,
) -> list[int]:
    """Subscribers whose deferred or pending message is due by ``due_by``, in id order."""
    found: list[int] = []
    for chunk in _id_chunks(subscriber_ids):
        rows = connection.execute(
            select(deliveries.c.subscriber_id)
            .where(
                deliveries.c.issue_id == issue_id,
                _in_range(after_id, up_to_id),
                _among(chunk),
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


def next_retry_at(
    connection: Connection,
    issue_id: int,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
) -> datetime | None:
    """When the earliest deferred message in the range becomes due."""
    earliest: datetime | None = None
    for chunk in _id_chunks(subscriber_ids):
        found = connection.execute(
            select(func.min(deliveries.c.next_attempt_at)).where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.status == "deferred",
                _in_range(after_id, up_to_id),
                _among(chunk),
            )
        ).scalar_one_or_none()
        if found and (earliest is None or utc(found) < earliest):
            earliest = utc(found)
    return earliest


def counts(
    connection: Connection,
    issue_id: int,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    found: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for chunk in _id_chunks(subscriber_ids):
        rows = connection.execute(
            select(deliveries.c.status, func.count())
            .where(deliveries.c.issue_id == issue_id, _in_range(after_id, up_to_id), _among(chunk))
            .group_by(deliveries.c.status)
        )
        for status, n in rows:
            found[status] += int(n)
    return found


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


def suppressed_addresses(connection: Connection, emails: Sequence[str]) -> set[str]:
    """Which of these addresses are on the suppression list (one query for a whole page)."""
    if not emails:
        return set()
    by_hash = {email_hash(e): e for e in emails}
    rows = connection.execute(
        select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(list(by_hash)))
    )
    return {by_hash[r.email_hash] for r in rows}
