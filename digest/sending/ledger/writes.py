"""Writing the delivery ledger (the deliveries table): seeding pending rows, claiming messages
before they leave, recording outcomes and skips, and recovering rows a dead run left in flight.

A row is marked ``sending`` before its message leaves and gets its outcome after the server
answers, so after a crash any row still ``sending`` may or may not have been delivered:
``recover_interrupted`` reports it as unknown. Writes only deliveries; ``seed_pending`` also
reads subscribers (one INSERT .. SELECT, so seeding a large issue is one statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from digest.sending.ledger.rows import INTERRUPTED, Claim, Outcome, id_chunks, in_scope
from digest.sending.scope import SendScope
from papercore.db.schema import deliveries, subscribers


def seed_pending(connection: Connection, scope: SendScope, frequency: str, now: datetime) -> int:
    """A pending row for every subscriber of ``frequency`` in the scope that has none yet;
    returns how many rows were added."""
    added = 0
    for chunk in id_chunks(scope):
        chosen = select(
            literal(scope.issue_id),
            subscribers.c.id,
            literal("pending"),
            literal(0),
            literal([], type_=JSON),
            literal(now, type_=deliveries.c.created_at.type),
            literal(now, type_=deliveries.c.updated_at.type),
        ).where(
            subscribers.c.frequency == frequency,
            subscribers.c.id > scope.after_id,
            ~exists().where(
                deliveries.c.issue_id == scope.issue_id,
                deliveries.c.subscriber_id == subscribers.c.id,
            ),
        )
        if scope.up_to_id is not None:
            chosen = chosen.where(subscribers.c.id <= scope.up_to_id)
        if chunk is not None:
            chosen = chosen.where(subscribers.c.id.in_(chunk))
        columns = ["issue_id", "subscriber_id", "status", "attempts", "paper_ids"]
        result = connection.execute(
            insert(deliveries).from_select([*columns, "created_at", "updated_at"], chosen)
        )
        added += max(result.rowcount or 0, 0)
    return added


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


def _due(now: datetime) -> ColumnElement[bool]:
    """Rows a runner may claim now: pending, or deferred and due by ``now``."""
    return (deliveries.c.status == "pending") | (
        (deliveries.c.status == "deferred")
        & (deliveries.c.next_attempt_at.is_(None) | (deliveries.c.next_attempt_at <= now))
    )


def _still_active() -> ColumnElement[bool]:
    """The row's subscriber is still active: read in the claiming statement itself, so an
    unsubscribe committed before the claim always stops the message."""
    return exists().where(
        subscribers.c.id == deliveries.c.subscriber_id, subscribers.c.status == "active"
    )


DEPARTED = "the subscriber stopped their mail before it left"


def skip_departed(
    connection: Connection, issue_id: int, subscriber_ids: Sequence[int], now: datetime
) -> set[int]:
    """Due rows of these subscribers whose subscriber is no longer active (they unsubscribed,
    bounced or paused since the send read them) become ``skipped``; returns whose they were."""
    if not subscriber_ids:
        return set()
    return set(
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.subscriber_id.in_(list(subscriber_ids)),
                _due(now),
                ~_still_active(),
            )
            .values(status="skipped", last_reply=DEPARTED, updated_at=now)
            .returning(deliveries.c.subscriber_id)
        ).scalars()
    )


def claim(
    connection: Connection, issue_id: int, claims: Sequence[Claim], now: datetime
) -> set[int]:
    """Mark messages as leaving now (status sending), with their id, papers and size; returns
    the subscriber ids claimed. Only rows still pending, or deferred and due by ``now``, are
    claimed, so two runners can never both send one message: a row another runner claimed (or
    settled) first is left out and must not be sent. (``describe_claims`` then ``take_claims``.)"""
    describe_claims(connection, issue_id, claims, now)
    return take_claims(connection, issue_id, claims, now)


def describe_claims(
    connection: Connection, issue_id: int, claims: Sequence[Claim], now: datetime
) -> None:
    """The first half of ``claim``: each message's id, papers and size on its row if the row is
    due (which locks it for this transaction). Reads nothing back, so it can join a page's other
    writes in one round trip; ``take_claims`` must follow in the same transaction."""
    if claims:
        connection.execute(
            update(deliveries)
            .where(_BY_KEY, _due(now))
            .values(
                message_id=bindparam("b_message_id"),
                paper_ids=bindparam("b_paper_ids", type_=JSON),
                why=bindparam("b_why", type_=JSON),
                size_bytes=bindparam("b_size"),
            ),
            [
                {
                    "b_issue": issue_id,
                    "b_subscriber": c.subscriber_id,
                    "b_message_id": c.message_id,
                    "b_paper_ids": list(c.paper_ids),
                    "b_why": c.layout.as_json() if c.layout else None,
                    "b_size": c.size_bytes,
                }
                for c in claims
            ],
        )


def take_claims(
    connection: Connection, issue_id: int, claims: Sequence[Claim], now: datetime
) -> set[int]:
    """The second half of ``claim``: one conditional UPDATE marks the due rows of subscribers
    still active ``sending`` (row locks make it atomic per row) and returns whose they are."""
    if not claims:
        return set()
    return set(
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.subscriber_id.in_([c.subscriber_id for c in claims]),
                _due(now),
                _still_active(),
            )
            .values(status="sending", next_attempt_at=None, updated_at=now)
            .returning(deliveries.c.subscriber_id)
        ).scalars()
    )


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
    connection: Connection, scope: SendScope, now: datetime, *, resend_unknown: bool
) -> int:
    """Rows of the scope left ``sending`` by a run that died become ``unknown``; with
    resend_unknown, every unknown row of the scope goes back to pending. Returns how many rows
    were left in flight."""
    in_flight = 0
    for chunk in id_chunks(scope):
        found = connection.execute(
            update(deliveries)
            .where(in_scope(scope, chunk), deliveries.c.status == "sending")
            .values(status="unknown", last_reply=INTERRUPTED, updated_at=now)
        ).rowcount
        in_flight += max(found or 0, 0)
        if resend_unknown:
            connection.execute(
                update(deliveries)
                .where(in_scope(scope, chunk), deliveries.c.status == "unknown")
                .values(status="pending", updated_at=now)
            )
    return in_flight


# What a row may have been when a bounce or complaint about its message comes back.
_RETURNABLE = {
    "bounced": ("sent", "unknown", "deferred", "failed"),
    "complained": ("sent", "unknown"),
}


def mark_returned(
    connection: Connection,
    issue_id: int,
    subscriber_id: int,
    status: str,
    reply: str,
    now: datetime,
) -> bool:
    """Record that the message of (issue, subscriber) bounced back later (``bounced``) or was
    reported as spam (``complained``), with what was said; True when a row changed. Rows not yet
    sent, skipped, or already marked are left alone, so a replayed report changes nothing."""
    result = connection.execute(
        update(deliveries)
        .where(
            deliveries.c.issue_id == issue_id,
            deliveries.c.subscriber_id == subscriber_id,
            deliveries.c.status.in_(_RETURNABLE[status]),
        )
        .values(status=status, last_reply=reply[:500], updated_at=now)
    )
    return bool(result.rowcount)
