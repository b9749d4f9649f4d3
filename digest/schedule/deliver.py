"""The deliver job: decide who is due (pure), then hand them, issue by issue, to a sender.

Due subscribers are handed over as their ids (the inline sender sends to exactly them) and as id
ranges that contain nobody else of the issue's frequency, by which issue 8's batch jobs are keyed.
The deliveries ledger is the only truth, and a pass is safe to repeat: subscribers whose delivery
for the issue is finished are not handed over again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Connection, Engine

from digest.compose import IssueInfo
from digest.personal import IssueDigests, NewPapers
from digest.schedule.due import IssueKey, Slot, feed_slot_of, slot_of, unrecorded
from digest.schedule.events import LOGGER, event
from digest.schedule.feeds import file_feeds
from digest.sending import ledger, lifecycle
from papercore.config import Settings
from subscribers.model import Frequency, Subscriber
from subscribers.store import iter_subscribers

log = logging.getLogger(LOGGER)


# Subscribers with ids in (after_id, up_to_id]: the sender turns it into a ``SendScope`` once
# the issue is open (the plan is made before issues have ids).
IdSpan = tuple[int, int]


class DigestSender(Protocol):
    """Sends an issue to the subscribers of given id ranges, recording outcomes in the ledger."""

    async def send(
        self,
        issue: IssueKey,
        ranges: Sequence[IdSpan],
        now: datetime,
        should_stop: Callable[[], bool],
        subscriber_ids: Sequence[int] | None = None,
        digests: IssueDigests | None = None,
    ) -> None:
        """Send ``issue`` to every subscriber of its frequency in the ranges (safe to repeat:
        never resends what the ledger says was sent). Stops early when ``should_stop()``.
        ``subscriber_ids``, when given, are exactly the subscribers in the ranges that are due:
        a sender may use them instead of the ranges. ``digests`` are the pass's, for a sender
        that ranks in this process (the feeds filed in the pass use them too)."""
        ...

    async def skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        """Record in the ledger that these subscribers get no ``issue``, and why."""
        ...


class RangeBuilder:
    """Collapses subscribers, seen in id order, into maximal id ranges per issue.

    A range for issue K only ever contains subscribers handed K: anyone else of K's frequency
    (not due, already served, paused, due for another date) closes it.
    """

    def __init__(self) -> None:
        self._open: dict[str, tuple[IssueKey, int, int]] = {}
        self.ranges: dict[IssueKey, list[IdSpan]] = defaultdict(list)

    def add(self, subscriber_id: int, frequency: Frequency, issue: IssueKey | None) -> None:
        current = self._open.get(frequency)
        if current is not None and current[0] == issue:
            self._open[frequency] = (current[0], current[1], subscriber_id)
            return
        if current is not None:
            self._close(frequency)
        if issue is not None:
            self._open[frequency] = (issue, subscriber_id - 1, subscriber_id)

    def _close(self, frequency: str) -> None:
        issue, after_id, up_to_id = self._open.pop(frequency)
        self.ranges[issue].append((after_id, up_to_id))

    def finish(self) -> dict[IssueKey, list[IdSpan]]:
        for frequency in list(self._open):
            self._close(frequency)
        return dict(sorted(self.ranges.items(), key=lambda i: (i[0].issue_date, i[0].frequency)))


@dataclass(slots=True)
class DeliverPlan:
    """What one pass does: per issue, the ranges to send and the subscribers to skip."""

    send: dict[IssueKey, list[IdSpan]] = field(default_factory=dict)
    # per issue, the subscribers with nothing new to them, by why (``NewPapers``'s words)
    skip: dict[IssueKey, dict[str, list[int]]] = field(default_factory=dict)
    sending: int = 0  # subscribers in the send ranges
    due: dict[IssueKey, list[int]] = field(default_factory=dict)  # exactly who, in id order
    # "feed only" subscribers due now (no mail; their picks are filed for the feed), and those
    # with nothing new
    feed: dict[IssueKey, list[int]] = field(default_factory=dict)
    feed_empty: dict[IssueKey, list[tuple[int, str]]] = field(default_factory=dict)


@dataclass(slots=True)
class DeliverReport:
    due: int = 0
    skipped: int = 0
    filed: int = 0  # feed-only subscribers whose picks went to their feed
    issues: list[str] = field(default_factory=list)
    stopped: bool = False


def plan_pass(engine: Engine, settings: Settings, now: datetime, page: int = 1000) -> DeliverPlan:
    """Read every subscriber page by page (by id) and decide who gets which issue now."""
    builder = RangeBuilder()
    skips: dict[IssueKey, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    due: dict[IssueKey, list[int]] = defaultdict(list)
    feeds = FeedPlan()
    sending = 0
    with engine.connect() as connection:
        newness = Newness(connection, settings.schedule.skip_empty)
        batch: list[Subscriber] = []
        for subscriber in iter_subscribers(connection, batch=page):
            batch.append(subscriber)
            if len(batch) >= page:
                sending += _settle(connection, batch, now, newness, settings, builder, skips, due)
                feeds.add(connection, batch, now, newness, settings)
                batch = []
        sending += _settle(connection, batch, now, newness, settings, builder, skips, due)
        feeds.add(connection, batch, now, newness, settings)
    return DeliverPlan(
        builder.finish(),
        {issue: dict(why) for issue, why in skips.items()},
        sending,
        dict(due),
        dict(feeds.due),
        dict(feeds.empty),
    )


class Newness:
    """A pass's view of ``NewPapers``: each issue's rule read once, on first need, and the
    slots split into those to send and those with nothing new (with why)."""

    def __init__(self, connection: Connection, skip_empty: bool) -> None:
        self.connection = connection
        self.skip_empty = skip_empty
        self._rules: dict[IssueKey, NewPapers] = {}

    def of(self, issue: IssueKey) -> NewPapers:
        """The new-paper rule of ``issue``'s pool."""
        found = self._rules.get(issue)
        if found is None:
            info = IssueInfo(0, issue.issue_date, issue.frequency)
            found = self._rules[issue] = NewPapers.of_issue(self.connection, info)
        return found

    def split(self, slots: Sequence[Slot]) -> tuple[list[Slot], list[tuple[Slot, str]]]:
        """(to send, to skip with why): with ``schedule.skip_empty``, a slot with no paper new
        to its subscriber is skipped; their papers fold into the next digest, because the
        last digest does not move."""
        send: list[Slot] = []
        skip: list[tuple[Slot, str]] = []
        for slot in slots:
            why = self.of(slot.issue).why_nothing_new(slot.last_digest_at)
            if why is None or not self.skip_empty:
                send.append(slot)
            else:
                skip.append((slot, why))
        return send, skip


@dataclass(slots=True)
class FeedPlan:
    """The feed-only subscribers due now, per daily issue (``due.feed_slot_of``)."""

    due: dict[IssueKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    empty: dict[IssueKey, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))

    def add(
        self,
        connection: Connection,
        people: list[Subscriber],
        now: datetime,
        newness: Newness,
        settings: Settings,
    ) -> None:
        zone = settings.schedule.default_timezone
        slots = [slot for s in people if (slot := feed_slot_of(s, now, zone)) is not None]
        open_slots = unrecorded(slots, _finished(connection, slots))
        send, skip = newness.split(open_slots)
        for slot in send:
            self.due[slot.issue].append(slot.subscriber_id)
        for slot, why in skip:
            self.empty[slot.issue].append((slot.subscriber_id, why))


def _settle(
    connection: Connection,
    people: list[Subscriber],
    now: datetime,
    newness: Newness,
    settings: Settings,
    builder: RangeBuilder,
    skips: dict[IssueKey, dict[str, list[int]]],
    due: dict[IssueKey, list[int]],
) -> int:
    zone = settings.schedule.default_timezone
    slots = [slot for s in people if (slot := slot_of(s, now, zone)) is not None]
    open_slots = unrecorded(slots, _finished(connection, slots))
    send, skip = newness.split(open_slots)
    handed: dict[int, Slot] = {slot.subscriber_id: slot for slot in send}
    for slot, why in skip:
        skips[slot.issue][why].append(slot.subscriber_id)
    for subscriber in people:
        slot = handed.get(subscriber.id)
        builder.add(subscriber.id, subscriber.frequency, slot.issue if slot else None)
        if slot is not None:
            due[slot.issue].append(subscriber.id)
    return len(handed)


def _finished(connection: Connection, slots: Sequence[Slot]) -> set[tuple[IssueKey, int]]:
    """The (issue, subscriber) pairs among ``slots`` whose delivery is finished in the ledger."""
    found = ledger.finished_pairs(
        connection, {s.issue.issue_date for s in slots}, [s.subscriber_id for s in slots]
    )
    return {(IssueKey(day, cast(Frequency, freq)), sid) for day, freq, sid in found}


async def deliver(
    engine: Engine,
    settings: Settings,
    sender: DigestSender,
    now: datetime,
    stop: asyncio.Event | None = None,
) -> DeliverReport:
    """One delivery pass: everyone due at ``now`` gets their issue, or a recorded skip."""
    plan = await asyncio.to_thread(plan_pass, engine, settings, now)
    skipping = sum(len(ids) for by_why in plan.skip.values() for ids in by_why.values())
    report = DeliverReport(due=plan.sending + skipping)
    stopping = stop.is_set if stop is not None else (lambda: False)
    # An issue that both mails and files feeds in this pass builds its ranking once for both.
    digests = IssueDigests(engine, settings, now)
    for issue, by_why in plan.skip.items():
        for why, ids in by_why.items():
            await sender.skip(issue, ids, why, now)
            report.skipped += len(ids)
            event(log, "deliver.skipped", issue=issue_name(issue), subscribers=len(ids), reason=why)
    for issue, ranges in plan.send.items():
        if stopping():
            report.stopped = True
            break
        report.issues.append(issue_name(issue))
        event(log, "deliver.issue", issue=issue_name(issue), ranges=len(ranges))
        shared = digests if issue in plan.feed else None  # else freed once its mail is sent
        await sender.send(issue, ranges, now, stopping, plan.due.get(issue), shared)
    if (plan.feed or plan.feed_empty) and not stopping():
        report.filed = await asyncio.to_thread(
            file_feeds, engine, settings, plan.feed, now, empty=plan.feed_empty, digests=digests
        )
        event(log, "deliver.filed", subscribers=report.filed)
    # An issue that only recorded skips in this pass ("nothing new" for everyone due) is
    # settled like one that sent: done once nothing is left pending, never left open.
    for issue in plan.skip.keys() - plan.send.keys():
        await asyncio.to_thread(_settle_skipped, engine, issue, now)
    report.stopped = report.stopped or stopping()
    return report


def _settle_skipped(engine: Engine, issue: IssueKey, now: datetime) -> None:
    opened = lifecycle.open_for(engine, issue.issue_date, issue.frequency, now)
    lifecycle.settle_filed(engine, opened.id, now)


def issue_name(issue: IssueKey) -> str:
    return f"{issue.issue_date.isoformat()}/{issue.frequency}"
