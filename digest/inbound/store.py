"""The inbound store: the ``inbound_events`` and ``webhook_nonces`` tables (SQL on them here
only). One row per message or webhook event that came back: what it was, what was done, and for
the ones nobody could classify or prove ours, the text, kept for the operator; and one row per
webhook post accepted, so that a replayed post is refused. Reads no other table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from papercore.db.schema import inbound_events, webhook_nonces
from papercore.papers import utc


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One thing that came back, as recorded."""

    event_key: str
    received_at: datetime
    via: str
    kind: str
    action: str
    detail: str
    email_hash: str | None = None
    issue_id: int | None = None
    subscriber_id: int | None = None
    raw: str | None = None
    id: int | None = None
    fingerprint: str | None = None  # kept messages: what makes two of them repeats
    sender_key: str | None = None
    repeats: int = 1


def seen(connection: Connection, event_key: str) -> bool:
    """Whether an event with this key was recorded already (a replay, or a message read twice)."""
    found = connection.execute(
        select(inbound_events.c.id).where(inbound_events.c.event_key == event_key)
    ).first()
    return found is not None


def record(connection: Connection, event: InboundEvent) -> None:
    """Record one event (the caller checked ``seen`` in the same transaction)."""
    connection.execute(
        insert(inbound_events).values(
            event_key=event.event_key,
            received_at=event.received_at,
            via=event.via,
            kind=event.kind,
            action=event.action,
            email_hash=event.email_hash,
            issue_id=event.issue_id,
            subscriber_id=event.subscriber_id,
            detail=event.detail,
            raw=event.raw,
            fingerprint=event.fingerprint,
            sender_key=event.sender_key,
        )
    )


def repeat_of(
    connection: Connection, fingerprint: str, sender_key: str, since: datetime, per_sender: int
) -> int | None:
    """The kept event (since ``since``, not yet resolved) a new kept message counts up on: the
    newest with the same fingerprint, else, when its sender has ``per_sender`` kept already,
    that sender's newest; None when it is new."""
    kept_since = (inbound_events.c.action == "kept", inbound_events.c.received_at >= since)
    same = connection.execute(
        select(inbound_events.c.id)
        .where(inbound_events.c.fingerprint == fingerprint, *kept_since)
        .order_by(inbound_events.c.id.desc())
        .limit(1)
    ).scalar()
    if same is not None:
        return int(same)
    theirs = (
        select(inbound_events.c.id)
        .where(inbound_events.c.sender_key == sender_key, *kept_since)
        .order_by(inbound_events.c.id.desc())
        .limit(per_sender)
    ).subquery()
    ids = connection.execute(select(theirs.c.id)).scalars().all()
    return int(ids[0]) if len(ids) >= per_sender else None


def count_repeat(connection: Connection, event_id: int) -> None:
    """One more message like kept event ``event_id``."""
    connection.execute(
        update(inbound_events)
        .where(inbound_events.c.id == event_id)
        .values(repeats=inbound_events.c.repeats + 1)
    )


def prune_kept(connection: Connection, keep: int) -> int:
    """Delete the oldest kept and resolved messages beyond the newest ``keep``; how many."""
    with_text = inbound_events.c.action.in_(("kept", "resolved"))
    cutoff = connection.execute(
        select(inbound_events.c.id)
        .where(with_text)
        .order_by(inbound_events.c.id.desc())
        .offset(keep)
        .limit(1)
    ).scalar()
    if cutoff is None:
        return 0
    result = connection.execute(
        delete(inbound_events).where(with_text, inbound_events.c.id <= cutoff)
    )
    return int(result.rowcount or 0)


def soft_bounces_since(connection: Connection, email_hash: str, since: datetime) -> int:
    """How many soft bounces were counted for the address since ``since`` (kept ones, not
    proven ours, do not count)."""
    return int(
        connection.execute(
            select(func.count()).where(
                inbound_events.c.email_hash == email_hash,
                inbound_events.c.kind == "soft_bounce",
                inbound_events.c.action.in_(("counted", "suppressed")),
                inbound_events.c.received_at >= since,
            )
        ).scalar_one()
    )


def kept(connection: Connection, limit: int = 50) -> list[InboundEvent]:
    """The messages kept for the operator (not yet resolved), newest first."""
    rows = connection.execute(
        select(inbound_events)
        .where(inbound_events.c.action == "kept")
        .order_by(inbound_events.c.id.desc())
        .limit(limit)
    )
    return [
        InboundEvent(
            event_key=r.event_key,
            received_at=utc(r.received_at),
            via=r.via,
            kind=r.kind,
            action=r.action,
            detail=r.detail,
            email_hash=r.email_hash,
            issue_id=r.issue_id,
            subscriber_id=r.subscriber_id,
            raw=r.raw,
            id=r.id,
            repeats=r.repeats,
        )
        for r in rows
    ]


def kept_count(connection: Connection) -> int:
    """How many messages wait for the operator."""
    return int(
        connection.execute(
            select(func.count()).where(inbound_events.c.action == "kept")
        ).scalar_one()
    )


def resolve(connection: Connection, event_id: int) -> bool:
    """Mark a kept message as dealt with by the operator; False when there is no such one."""
    result = connection.execute(
        update(inbound_events)
        .where(inbound_events.c.id == event_id, inbound_events.c.action == "kept")
        .values(action="resolved")
    )
    return bool(result.rowcount)


def use_nonce(connection: Connection, provider: str, nonce: str, now: datetime) -> bool:
    """Record that a webhook post with this single-use value was accepted; False when one was
    already (a replay). The unique constraint decides, so two racing replays cannot both win."""
    values = {"provider": provider, "nonce": nonce[:128], "received_at": now}
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(webhook_nonces).values(values).on_conflict_do_nothing()
        result = connection.execute(statement.returning(webhook_nonces.c.id))
    else:
        done = sqlite.insert(webhook_nonces).values(values).on_conflict_do_nothing()
        result = connection.execute(done.returning(webhook_nonces.c.id))
    return result.first() is not None  # (rowcount is -1 here on psycopg)


def prune_nonces(connection: Connection, provider: str, before: datetime) -> int:
    """Forget the provider's webhook nonces accepted before ``before`` (posts that old are
    refused as stale by their timestamp); how many."""
    result = connection.execute(
        delete(webhook_nonces).where(
            webhook_nonces.c.provider == provider, webhook_nonces.c.received_at < before
        )
    )
    return int(result.rowcount or 0)
