"""A subscriber's next digest as the scheduler will deliver it: when, which issue, and whether
it would hold papers or be skipped (and why). Pages, `digest preview --subscriber` and
`digest status --subscriber` say what they say from here, so every promise is the scheduler's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, Engine

from digest.personal import Preview, preview_digest
from digest.schedule.due import (
    IssueKey,
    Slot,
    feed_slot_of,
    next_slot_start,
    slot_of,
    unrecorded,
    zone_of,
)
from digest.sending import ledger
from papercore.config import Settings
from subscribers.model import Frequency, Subscriber


@dataclass(frozen=True, slots=True)
class NextDigest:
    """When the subscriber's next digest comes (None: nothing comes while they are not
    active), the issue it belongs to, and what kind of promise that is."""

    subscriber: Subscriber
    at: datetime | None
    issue: IssueKey | None
    due_now: bool  # their slot has begun and the next deliver pass will serve it

    @property
    def first(self) -> bool:
        """They never had a digest: this one is their first."""
        return self.subscriber.last_digest_at is None

    @property
    def by_mail(self) -> bool:
        """The digest is mailed ("feed only" readers find it in their feed)."""
        return self.subscriber.mailed


def next_digest(
    connection: Connection, subscriber: Subscriber, now: datetime, default_zone: str = "UTC"
) -> NextDigest:
    """The slot the scheduler serves next for ``subscriber``: the current one while it is due
    and not in the ledger yet, else the next one after ``now``."""
    if subscriber.status != "active":
        return NextDigest(subscriber, None, None, False)
    daily = subscriber if subscriber.mailed else replace(subscriber, frequency="daily")
    slot: Slot | None = (
        slot_of(subscriber, now, default_zone)
        if subscriber.mailed
        else feed_slot_of(subscriber, now, default_zone)
    )
    if slot is not None and unrecorded([slot], _finished(connection, slot)):
        return NextDigest(subscriber, slot.at, slot.issue, True)
    at = next_slot_start(daily, now, default_zone)
    day = at.astimezone(zone_of(subscriber.timezone, default_zone)).date()
    frequency: Frequency = daily.frequency
    return NextDigest(subscriber, at, IssueKey(day, frequency), False)


def _finished(connection: Connection, slot: Slot) -> set[tuple[IssueKey, int]]:
    found = ledger.finished_pairs(connection, {slot.issue.issue_date}, [slot.subscriber_id])
    return {(slot.issue, sid) for day, freq, sid in found if freq == slot.issue.frequency}


def promise(coming: NextDigest, default_zone: str = "UTC") -> str:
    """The sentence a page shows about the next digest, true of this subscriber: "first" only
    before their first, "email" only when it is mailed."""
    person = coming.subscriber
    if coming.at is None:
        if person.status == "paused":
            return "Your digest is paused: nothing comes until you resume it."
        return "No digest comes while your subscription is not active."
    local = coming.at.astimezone(zone_of(person.timezone, default_zone))
    when = f"{local:%A %-d %B} at {local:%H:%M} ({person.timezone})"
    which = "first" if coming.first else "next"
    if not coming.by_mail:
        return f"Your {which} digest goes to your feed, not by email, on {when}."
    return f"Your {which} digest comes on {when}."


@dataclass(frozen=True, slots=True)
class Outlook:
    """The next digest and what it would hold if it were built now (``preview``), or why the
    scheduler would skip it (``skip_reason``)."""

    coming: NextDigest
    preview: Preview | None
    skip_reason: str | None


def outlook(engine: Engine, settings: Settings, subscriber: Subscriber, now: datetime) -> Outlook:
    """The subscriber's next digest, built as its send will build it, at ``now``."""
    zone = settings.schedule.default_timezone
    with engine.connect() as connection:
        coming = next_digest(connection, subscriber, now, zone)
    if coming.issue is None:
        return Outlook(coming, None, f"the subscriber is {subscriber.status}")
    found = preview_digest(engine, settings, subscriber, now, day=coming.issue.issue_date)
    reason = None
    if not found.picks:
        reason = found.digests.why_no_picks(subscriber)
    return Outlook(coming, found, reason)
