"""Signup submissions (SQL on ``signup_submissions`` only): what each signup asked for, keyed by
the nonce that its confirmation link carries. Confirming applies the submission the link was
mailed for, and a submission is used at most once (a conditional UPDATE decides, in the
database, which of several simultaneous clicks used it)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from papercore.db.schema import signup_submissions
from subscribers.model import Frequency
from subscribers.paper_list import MAX_UNREADABLE, Cited, PaperList

KEEP_PER_SUBSCRIBER = 20  # older submissions go; the per-address signup limit bounds the rate


@dataclass(frozen=True, slots=True)
class Submission:
    """One signup's request, as its confirmation link will apply it."""

    subscriber_id: int
    nonce: str
    topics: tuple[str, ...]
    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    seeds: PaperList | None = None
    returning: str | None = None  # why mail had stopped before this signup, if it had
    confirmed: bool = False


def _seeds_json(seeds: PaperList | None) -> dict[str, Any] | None:
    if seeds is None or not (seeds.cited or seeds.unreadable):
        return None
    unreadable = list(seeds.unreadable[: MAX_UNREADABLE + 1])  # as read: named, then counted
    return {"cited": [asdict(c) for c in seeds.cited], "unreadable": unreadable}


def _seeds_of(data: dict[str, Any] | None) -> PaperList | None:
    if not data:
        return None
    cited = tuple(
        Cited(
            label=str(c.get("label", "")),
            arxiv=c.get("arxiv"),
            title=str(c.get("title", "")),
            abstract=str(c.get("abstract", "")),
            authors=tuple(str(a) for a in c.get("authors") or ()),
        )
        for c in data.get("cited", ())
    )
    return PaperList(cited, tuple(str(u) for u in data.get("unreadable", ())))


def record(
    connection: Connection,
    subscriber_id: int,
    now: datetime,
    *,
    topics: tuple[str, ...],
    frequency: Frequency,
    weekday: int,
    hour: int,
    timezone: str,
    seeds: PaperList | None = None,
    returning: str | None = None,
) -> Submission:
    """Store a submission under a new random nonce (keeping the subscriber's newest
    KEEP_PER_SUBSCRIBER) and return it."""
    nonce = secrets.token_urlsafe(18)  # 24 characters
    connection.execute(
        insert(signup_submissions).values(
            subscriber_id=subscriber_id,
            nonce=nonce,
            topics=list(topics),
            frequency=frequency,
            weekday=weekday,
            hour=hour,
            timezone=timezone,
            seeds=_seeds_json(seeds),
            stopped_by=returning,
            created_at=now,
        )
    )
    newest = (
        select(signup_submissions.c.id)
        .where(signup_submissions.c.subscriber_id == subscriber_id)
        .order_by(signup_submissions.c.id.desc())
        .limit(KEEP_PER_SUBSCRIBER)
    )
    connection.execute(
        delete(signup_submissions).where(
            signup_submissions.c.subscriber_id == subscriber_id,
            signup_submissions.c.id.not_in(newest.scalar_subquery()),
        )
    )
    return Submission(
        subscriber_id, nonce, topics, frequency, weekday, hour, timezone, seeds, returning
    )


def find(connection: Connection, subscriber_id: int, nonce: str) -> Submission | None:
    """The subscriber's submission with this nonce; None if there is none (pruned, forgotten)."""
    row = connection.execute(
        select(signup_submissions).where(
            signup_submissions.c.subscriber_id == subscriber_id,
            signup_submissions.c.nonce == nonce,
        )
    ).first()
    if row is None:
        return None
    return Submission(
        subscriber_id=row.subscriber_id,
        nonce=row.nonce,
        topics=tuple(row.topics or ()),
        frequency=row.frequency,
        weekday=row.weekday,
        hour=row.hour,
        timezone=row.timezone,
        seeds=_seeds_of(row.seeds),
        returning=row.stopped_by,
        confirmed=row.confirmed_at is not None,
    )


def use(connection: Connection, subscriber_id: int, nonce: str, now: datetime) -> bool:
    """Mark the submission confirmed; True for exactly one caller however many race (the
    UPDATE's condition is checked under the row's write lock)."""
    result = connection.execute(
        update(signup_submissions)
        .where(
            signup_submissions.c.subscriber_id == subscriber_id,
            signup_submissions.c.nonce == nonce,
            signup_submissions.c.confirmed_at.is_(None),
        )
        .values(confirmed_at=now)
    )
    return bool(result.rowcount)


def newest_open(connection: Connection, subscriber_id: int) -> Submission | None:
    """The subscriber's newest submission not yet confirmed (the one a new link confirms)."""
    row = connection.execute(
        select(signup_submissions.c.nonce)
        .where(
            signup_submissions.c.subscriber_id == subscriber_id,
            signup_submissions.c.confirmed_at.is_(None),
        )
        .order_by(signup_submissions.c.id.desc())
        .limit(1)
    ).first()
    return find(connection, subscriber_id, row.nonce) if row is not None else None
