"""Who is due now: pure functions of subscribers, the ledger's answers and an explicit ``now``.

A subscriber's *slot* is the latest moment, at or before ``now``, when their local delivery hour
began on a delivery day (every day, or their weekday), in their IANA time zone. They are due when
that slot has not been served yet: their last digest (else their confirmation) is older than it.
Only the most recent slot counts, so after downtime a subscriber gets one digest, not one per missed
slot. The slot's local date names the issue they get (issues are unique per date and frequency).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from subscribers.model import Frequency, Subscriber

# "feed only" subscribers are never due for mail; their feed follows the daily rhythm (feed_slot_of)
PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7), "feed": timedelta(days=1)}


@dataclass(frozen=True, slots=True)
class IssueKey:
    """An issue is identified by its date and frequency (the issues table's unique key)."""

    issue_date: date
    frequency: Frequency


@dataclass(frozen=True, slots=True)
class Slot:
    """One subscriber's most recent scheduled delivery."""

    subscriber_id: int
    issue: IssueKey
    at: datetime  # when the slot began, aware UTC
    # their last digest (None: this is their first), by which ``NewPapers`` says what is new
    last_digest_at: datetime | None


def zone_of(name: str, default: str = "UTC") -> ZoneInfo:
    """The subscriber's time zone; an unknown name falls back to ``default`` rather than failing."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local_hour_start(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour``:00 on ``day`` in ``zone``, as UTC.

    A local time skipped by a daylight-saving jump (02:00 on a spring-forward night) maps to the
    first instant after the gap; a repeated one (fall back) to its first occurrence (fold=0).
    """
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


def latest_slot_start(
    frequency: Frequency, weekday: int, hour: int, zone: ZoneInfo, now: datetime
) -> tuple[date, datetime]:
    """The local date and UTC start of the most recent delivery slot at or before ``now``."""
    today = now.astimezone(zone).date()
    if frequency == "weekly":
        day = today - timedelta(days=(today.weekday() - weekday) % 7)
        step = timedelta(days=7)
    else:
        day, step = today, timedelta(days=1)
    at = local_hour_start(day, hour, zone)
    while at > now:
        day -= step
        at = local_hour_start(day, hour, zone)
    return day, at


def next_slot_start(subscriber: Subscriber, now: datetime, default_zone: str = "UTC") -> datetime:
    """The UTC start of the subscriber's first delivery slot after ``now``."""
    zone = zone_of(subscriber.timezone, default_zone)
    day, _ = latest_slot_start(subscriber.frequency, subscriber.weekday, subscriber.hour, zone, now)
    step = PERIOD[subscriber.frequency]
    while True:
        day += step
        at = local_hour_start(day, subscriber.hour, zone)
        if at > now:
            return at


def reference_time(subscriber: Subscriber) -> datetime | None:
    """Since when the subscriber's slots count: their last digest, else when they joined (which
    papers are new to them is ``digest.personal.NewPapers``'s to say, not this)."""
    return subscriber.last_digest_at or subscriber.confirmed_at or subscriber.created_at


def slot_of(subscriber: Subscriber, now: datetime, default_zone: str = "UTC") -> Slot | None:
    """The subscriber's current slot if it is due (not yet served), else None.

    A slot counts as served when the last digest went out after the slot began, or less than half
    a period before it: a subscriber who moves to a zone further east is not mailed twice within
    hours because the new zone's day has already begun.
    """
    if subscriber.status != "active" or not subscriber.mailed:
        return None
    zone = zone_of(subscriber.timezone, default_zone)
    day, at = latest_slot_start(
        subscriber.frequency, subscriber.weekday, subscriber.hour, zone, now
    )
    reference = reference_time(subscriber)
    if reference is not None:
        served_after = at - PERIOD[subscriber.frequency] / 2
        if subscriber.last_digest_at is not None and subscriber.last_digest_at >= served_after:
            return None
        if reference >= at:  # joined after the slot began: their first slot is the next one
            return None
    return Slot(subscriber.id, IssueKey(day, subscriber.frequency), at, subscriber.last_digest_at)


def feed_slot_of(subscriber: Subscriber, now: datetime, default_zone: str = "UTC") -> Slot | None:
    """A "feed only" subscriber's current slot, if due: the daily issue of their local date at
    their hour, by the same rules as a daily subscriber's mail (None for anyone mailed)."""
    if subscriber.mailed:
        return None
    return slot_of(replace(subscriber, frequency="daily"), now, default_zone)


def due_slots(
    subscribers: Iterable[Subscriber], now: datetime, default_zone: str = "UTC"
) -> Iterator[Slot]:
    """The due slot of every subscriber who is due at ``now``, in input order."""
    for subscriber in subscribers:
        slot = slot_of(subscriber, now, default_zone)
        if slot is not None:
            yield slot


def due_subscribers(
    subscribers: Iterable[Subscriber], now: datetime, default_zone: str = "UTC"
) -> list[Subscriber]:
    """The subscribers who are due at ``now``."""
    return [s for s in subscribers if slot_of(s, now, default_zone) is not None]


def unrecorded(slots: Iterable[Slot], finished: Collection[tuple[IssueKey, int]]) -> list[Slot]:
    """Drop slots whose (issue, subscriber) already has a finished delivery in the ledger."""
    return [s for s in slots if (s.issue, s.subscriber_id) not in finished]
