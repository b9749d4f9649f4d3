"""The subscriber store: subscribers, interests, feedback examples, suppressions and the event
log (SQL here only; private examples, the seeds in no paper store, are read and removed through
``subscribers.private_examples``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from papercore.db.schema import (
    feedback_examples,
    interests,
    subscriber_events,
    subscribers,
    suppressions,
)
from papercore.errors import InputError, NotFound
from papercore.papers import utc
from subscribers import private_examples
from subscribers.model import (
    Example,
    Frequency,
    Interest,
    InterestKind,
    Status,
    Subscriber,
    email_hash,
)


def _subscriber(
    row: Row[Any], found: Sequence[Interest], examples: Sequence[Example] = ()
) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        name=row.name or "",
        status=row.status,
        frequency=row.frequency,
        weekday=row.weekday,
        hour=row.hour,
        timezone=row.timezone,
        interests=tuple(found),
        token_version=row.token_version,
        feed_version=row.feed_version,
        created_at=utc(row.created_at) if row.created_at else None,
        confirmed_at=utc(row.confirmed_at) if row.confirmed_at else None,
        last_digest_at=utc(row.last_digest_at) if row.last_digest_at else None,
        examples=tuple(examples),
    )


def _interests_of(connection: Connection, ids: Sequence[int]) -> dict[int, list[Interest]]:
    found: dict[int, list[Interest]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = connection.execute(
        select(interests).where(interests.c.subscriber_id.in_(ids)).order_by(interests.c.id)
    )
    for row in rows:
        found[row.subscriber_id].append(Interest(row.kind, row.phrase, row.weight))
    return found


def _examples_of(connection: Connection, ids: Sequence[int]) -> dict[int, list[Example]]:
    """Each subscriber's examples, oldest first (one query for a whole page of subscribers)."""
    found: dict[int, list[Example]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = connection.execute(
        select(feedback_examples)
        .where(feedback_examples.c.subscriber_id.in_(ids))
        .order_by(feedback_examples.c.created_at, feedback_examples.c.id)
    )
    for row in rows:
        found[row.subscriber_id].append(Example(row.paper_id, row.vote, utc(row.created_at)))
    for sid, private in private_examples.examples_of(connection, ids).items():
        if private:  # seeds that match no stored paper, kept with the subscriber only
            found[sid] = sorted(found[sid] + private, key=lambda e: e.at)
    return found


def examples_of(connection: Connection, subscriber_id: int) -> list[Example]:
    """The subscriber's examples (clicks and private seeds), oldest first."""
    return _examples_of(connection, [subscriber_id])[subscriber_id]


def _one(connection: Connection, row: Row[Any]) -> Subscriber:
    examples = _examples_of(connection, [row.id])[row.id]
    return _subscriber(row, _interests_of(connection, [row.id])[row.id], examples)


def get(connection: Connection, subscriber_id: int) -> Subscriber:
    row = connection.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    if row is None:
        raise NotFound(f"no subscriber with id {subscriber_id}")
    return _one(connection, row)


def find(connection: Connection, email: str) -> Subscriber | None:
    row = connection.execute(
        select(subscribers).where(subscribers.c.email == email.strip().lower())
    ).first()
    if row is None:
        return None
    return _one(connection, row)


def get_by_email(connection: Connection, email: str) -> Subscriber:
    found = find(connection, email)
    if found is None:
        raise NotFound(f"no subscriber {email.strip()[:80]!r}")
    return found


def max_subscriber_id(connection: Connection) -> int:
    """The highest subscriber id there is, 0 when there is no subscriber."""
    return int(connection.execute(select(func.max(subscribers.c.id))).scalar() or 0)


def iter_subscribers(
    connection: Connection,
    statuses: Sequence[Status] | None = None,
    batch: int = 1000,
    after_id: int = 0,
    up_to_id: int | None = None,
) -> Iterator[Subscriber]:
    """Subscribers in id order, paged by key so the whole list is never held in memory."""
    last = after_id
    while True:
        query = select(subscribers).where(subscribers.c.id > last)
        if statuses:
            query = query.where(subscribers.c.status.in_(statuses))
        if up_to_id is not None:
            query = query.where(subscribers.c.id <= up_to_id)
        rows = connection.execute(query.order_by(subscribers.c.id).limit(batch)).all()
        if not rows:
            return
        found = _interests_of(connection, [r.id for r in rows])
        examples = _examples_of(connection, [r.id for r in rows])
        for row in rows:
            yield _subscriber(row, found[row.id], examples[row.id])
        last = rows[-1].id


def inactive_among(connection: Connection, subscriber_ids: Sequence[int]) -> set[int]:
    """Which of these subscribers are no longer active (one query for a whole page)."""
    if not subscriber_ids:
        return set()
    rows = connection.execute(
        select(subscribers.c.id).where(
            subscribers.c.id.in_(list(subscriber_ids)), subscribers.c.status != "active"
        )
    )
    return {int(r.id) for r in rows}


def count_by_status(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    )
    return {status: n for status, n in rows}


def earliest_last_digest(connection: Connection, frequency: str) -> datetime | None:
    """The oldest last_digest_at (UTC) among active subscribers of ``frequency``; None when
    none of them has had a digest yet."""
    found = connection.execute(
        select(func.min(subscribers.c.last_digest_at)).where(
            subscribers.c.frequency == frequency, subscribers.c.status == "active"
        )
    ).scalar_one_or_none()
    return None if found is None else utc(found)


def add(
    connection: Connection,
    email: str,
    now: datetime,
    *,
    topics: Sequence[str] = (),
    authors: Sequence[str] = (),
    mutes: Sequence[str] = (),
    name: str = "",
    status: Status = "pending",
    frequency: Frequency = "daily",
    weekday: int = 0,
    hour: int = 8,
    timezone: str = "UTC",
    allow_suppressed: bool = False,
) -> int:
    """Insert a subscriber (``email`` already normalised) and their interests; returns the id.
    A suppressed address only with ``allow_suppressed`` (a pending signup that must confirm).
    An address that is taken, even by a request racing this one, is a one-line InputError."""
    subscriber_id = add_if_new(
        connection,
        email,
        now,
        topics=topics,
        authors=authors,
        mutes=mutes,
        name=name,
        status=status,
        frequency=frequency,
        weekday=weekday,
        hour=hour,
        timezone=timezone,
        allow_suppressed=allow_suppressed,
    )
    if subscriber_id is None:
        raise InputError(f"{email} is already subscribed")
    return subscriber_id


def add_if_new(
    connection: Connection,
    email: str,
    now: datetime,
    *,
    topics: Sequence[str] = (),
    authors: Sequence[str] = (),
    mutes: Sequence[str] = (),
    name: str = "",
    status: Status = "pending",
    frequency: Frequency = "daily",
    weekday: int = 0,
    hour: int = 8,
    timezone: str = "UTC",
    allow_suppressed: bool = False,
) -> int | None:
    """Like ``add``, but None when the address is taken: decided by the insert itself (ON
    CONFLICT DO NOTHING), so of simultaneous requests for one new address exactly one creates
    it and the others see None (never a UNIQUE violation)."""
    if not allow_suppressed and is_suppressed(connection, email):
        raise InputError(f"{email} is on the suppression list and cannot be subscribed")
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    subscriber_id = connection.execute(
        dialect.insert(subscribers)
        .values(
            email=email,
            name=name,
            status=status,
            frequency=frequency,
            weekday=weekday,
            hour=hour,
            timezone=timezone,
            token_version=1,
            created_at=now,
            updated_at=now,
            confirmed_at=now if status == "active" else None,
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(subscribers.c.id)
    ).scalar_one_or_none()
    if subscriber_id is None:
        return None
    for kind, phrases in (("topic", topics), ("author", authors), ("mute", mutes)):
        set_interests(connection, subscriber_id, kind, phrases)  # type: ignore[arg-type]
    return int(subscriber_id)


def move_address(
    connection: Connection, subscriber_id: int, new_email: str, now: datetime, token_version: int
) -> bool:
    """Give a subscriber ``new_email`` and a new token version; False when the address is taken,
    even by a change racing this one (decided by the UPDATE and the unique index, never a
    database error)."""
    taken = select(subscribers.c.id).where(
        subscribers.c.email == new_email, subscribers.c.id != subscriber_id
    )
    statement = (
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, ~taken.exists())
        .values(email=new_email, token_version=token_version, updated_at=now)
    )
    if connection.dialect.name != "postgresql":  # SQLite: one writer at a time, it sees all
        return connection.execute(statement).rowcount == 1
    try:
        with connection.begin_nested():  # a racing commit of the same address: a savepoint
            return connection.execute(statement).rowcount == 1
    except IntegrityError:
        return False


def update_fields(connection: Connection, subscriber_id: int, now: datetime, **values: Any) -> None:
    """Change columns of one subscriber (status, frequency, hour, timezone, email, ...)."""
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(updated_at=now, **values)
    )


def activate_pending(
    connection: Connection, subscriber_id: int, token_version: int, now: datetime, **values: Any
) -> bool:
    """Make a pending subscriber active (with ``values``); True only for the one caller whose
    UPDATE found them still pending under that token version, however many race."""
    result = connection.execute(
        update(subscribers)
        .where(
            subscribers.c.id == subscriber_id,
            subscribers.c.token_version == token_version,
            subscribers.c.status == "pending",
        )
        .values(status="active", confirmed_at=now, updated_at=now, **values)
    )
    return bool(result.rowcount)


def mark_unsubscribed(connection: Connection, subscriber_id: int, now: datetime) -> bool:
    """Set the status to unsubscribed; True only for the caller that changed it."""
    result = connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status != "unsubscribed")
        .values(status="unsubscribed", updated_at=now)
    )
    return bool(result.rowcount)


def delete_subscriber(connection: Connection, subscriber_id: int) -> None:
    """Delete a subscriber; their interests, events, deliveries and delivery memory go with them."""
    connection.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))


def set_interests(
    connection: Connection,
    subscriber_id: int,
    kind: InterestKind,
    phrases: Sequence[str],
    weights: dict[str, float] | None = None,
) -> None:
    """Replace the subscriber's interests of one kind."""
    connection.execute(
        delete(interests).where(
            interests.c.subscriber_id == subscriber_id, interests.c.kind == kind
        )
    )
    rows = [
        {
            "subscriber_id": subscriber_id,
            "kind": kind,
            "phrase": phrase,
            "weight": (weights or {}).get(phrase, 1.0),
        }
        for phrase in dict.fromkeys(phrases)
    ]
    if rows:
        connection.execute(insert(interests), rows)


def votes_on(connection: Connection, subscriber_id: int, papers: Sequence[str]) -> dict[str, int]:
    """The subscriber's current vote on each of these papers that has one."""
    rows = connection.execute(
        select(feedback_examples.c.paper_id, feedback_examples.c.vote).where(
            feedback_examples.c.subscriber_id == subscriber_id,
            feedback_examples.c.paper_id.in_(list(papers)),
        )
    )
    return {paper_id: vote for paper_id, vote in rows}


def put_examples(
    connection: Connection, subscriber_id: int, votes: dict[str, int], now: datetime, keep: int
) -> set[str]:
    """Store a vote per paper (a later vote on the same paper replaces the earlier one and its
    time; a repeat only refreshes the time), then keep only the subscriber's ``keep`` newest
    examples. Returns the papers whose vote this call changed: decided by the upsert itself, so
    of simultaneous identical clicks exactly one sees a change."""
    if not votes:
        return set()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(feedback_examples).values(
        [
            {"subscriber_id": subscriber_id, "paper_id": p, "vote": v, "created_at": now}
            for p, v in votes.items()
        ]
    )
    changed = set(
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["subscriber_id", "paper_id"],
                set_={"vote": statement.excluded.vote, "created_at": statement.excluded.created_at},
                where=feedback_examples.c.vote != statement.excluded.vote,
            ).returning(feedback_examples.c.paper_id)
        ).scalars()
    )
    for vote in set(votes.values()):  # repeats: the same vote again only refreshes its time
        connection.execute(
            update(feedback_examples)
            .where(
                feedback_examples.c.subscriber_id == subscriber_id,
                feedback_examples.c.paper_id.in_([p for p, v in votes.items() if v == vote]),
                feedback_examples.c.vote == vote,
            )
            .values(created_at=now)
        )
    newest = (
        select(feedback_examples.c.id)
        .where(feedback_examples.c.subscriber_id == subscriber_id)
        .order_by(feedback_examples.c.created_at.desc(), feedback_examples.c.id.desc())
        .limit(keep)
    )
    connection.execute(
        delete(feedback_examples).where(
            feedback_examples.c.subscriber_id == subscriber_id,
            feedback_examples.c.id.not_in(newest.scalar_subquery()),
        )
    )
    return changed


def remove_examples(
    connection: Connection, subscriber_id: int, paper_ids: Sequence[str] | None = None
) -> int:
    """Forget the subscriber's examples of these papers or private examples (``seed:<n>``),
    all of them when None; how many."""
    query = delete(feedback_examples).where(feedback_examples.c.subscriber_id == subscriber_id)
    if paper_ids is not None:
        query = query.where(feedback_examples.c.paper_id.in_(list(paper_ids)))
    private = private_examples.remove(connection, subscriber_id, paper_ids)
    return int(connection.execute(query).rowcount or 0) + private


def record_event(
    connection: Connection,
    subscriber_id: int | None,
    kind: str,
    now: datetime,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    detail: dict[str, Any] | None = None,
    consent_text: str | None = None,
) -> None:
    connection.execute(
        insert(subscriber_events).values(
            subscriber_id=subscriber_id,
            kind=kind,
            at=now,
            ip=ip,
            user_agent=user_agent,
            detail=detail or {},
            consent_text=consent_text,
            is_consent=consent_text is not None,
        )
    )


def address_changed_since(connection: Connection, subscriber_id: int, since: datetime) -> bool:
    """Whether the subscriber moved to another address after ``since``."""
    found = connection.execute(
        select(subscriber_events.c.id)
        .where(
            subscriber_events.c.subscriber_id == subscriber_id,
            subscriber_events.c.kind == "address-change",
            subscriber_events.c.at > since,
        )
        .limit(1)
    ).first()
    return found is not None


def events(connection: Connection, subscriber_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(subscriber_events)
        .where(subscriber_events.c.subscriber_id == subscriber_id)
        .order_by(subscriber_events.c.id)
    )
    return [dict(row._mapping) for row in rows]


def is_suppressed(connection: Connection, email: str) -> bool:
    found = connection.execute(
        select(suppressions.c.id).where(suppressions.c.email_hash == email_hash(email))
    ).first()
    return found is not None


def suppression_reason(connection: Connection, email: str) -> str | None:
    """Why the address is suppressed (bounce, complaint, unsubscribe, forget, ...), or None."""
    found = connection.execute(
        select(suppressions.c.reason).where(suppressions.c.email_hash == email_hash(email))
    ).scalar_one_or_none()
    return None if found is None else str(found)


def lift_suppression(connection: Connection, email: str) -> None:
    """Take the address off the suppression list (after its owner confirmed a new signup)."""
    connection.execute(delete(suppressions).where(suppressions.c.email_hash == email_hash(email)))


def suppress(
    connection: Connection, email: str, reason: str, now: datetime, detail: str | None = None
) -> None:
    """Put an address on the suppression list (idempotent, also when two reports race: the
    insert decides)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(suppressions)
        .values(email_hash=email_hash(email), reason=reason, detail=detail, created_at=now)
        .on_conflict_do_nothing(index_elements=["email_hash"])
    )


def suppression_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(suppressions)).scalar_one())


def suppressed_among(connection: Connection, emails: Sequence[str]) -> set[str]:
    """Which of these addresses are on the suppression list (one query for a whole page)."""
    if not emails:
        return set()
    by_hash = {email_hash(e): e for e in emails}
    rows = connection.execute(
        select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(list(by_hash)))
    )
    return {by_hash[r.email_hash] for r in rows}


def mark_digest_received(connection: Connection, received: Sequence[tuple[int, datetime]]) -> None:
    """Move each subscriber's last_digest_at to the given moment, in one statement for the batch
    (this runs for every message sent)."""
    from sqlalchemy import bindparam  # added with this function; the imports above are shared

    if received:
        connection.execute(
            update(subscribers)
            .where(subscribers.c.id == bindparam("b_id"))
            .values(last_digest_at=bindparam("b_at", type_=subscribers.c.last_digest_at.type)),
            [{"b_id": sid, "b_at": at} for sid, at in received],
        )


def id_bounds(connection: Connection, parts: int, after_id: int, up_to_id: int | None) -> list[int]:
    """Up to ``parts - 1`` ascending subscriber ids that cut the ids in (after_id, up_to_id] into
    ``parts`` contiguous ranges holding about as many subscribers each."""
    condition = subscribers.c.id > after_id
    if up_to_id is not None:
        condition = condition & (subscribers.c.id <= up_to_id)
    total = connection.execute(
        select(func.count()).select_from(subscribers).where(condition)
    ).scalar_one()
    bounds: list[int] = []
    for k in range(1, parts):
        found = connection.execute(
            select(subscribers.c.id)
            .where(condition)
            .order_by(subscribers.c.id)
            .offset(total * k // parts - 1)
            .limit(1)
        ).scalar_one_or_none()
        if found is not None and (not bounds or found > bounds[-1]):
            bounds.append(int(found))
    return bounds
