"""Time travel through "who is due now": a fake clock steps every five minutes, no sleeps."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.schedule.due import (
    IssueKey,
    Slot,
    due_slots,
    due_subscribers,
    local_hour_start,
    next_slot_start,
    slot_of,
    unrecorded,
)
from subscribers.model import Subscriber

STEP = timedelta(minutes=5)
JOINED = datetime(2026, 3, 1, tzinfo=UTC)  # when the time-travel runs begin


def person(sid: int, tz: str, hour: int = 8, **fields: object) -> Subscriber:
    values: dict[str, object] = {"confirmed_at": JOINED, "created_at": JOINED} | fields
    return Subscriber(id=sid, email=f"s{sid}@example.org", timezone=tz, hour=hour, **values)  # type: ignore[arg-type]


class World:
    """Subscribers plus a ledger; every tick sends a digest to whoever is due."""

    def __init__(self, *people: Subscriber) -> None:
        self.people = {p.id: p for p in people}
        self.sent: list[tuple[int, IssueKey, datetime]] = []
        self.ledger: set[tuple[IssueKey, int]] = set()

    def tick(self, now: datetime) -> list[Slot]:
        slots = unrecorded(due_slots(self.people.values(), now), self.ledger)
        for slot in slots:
            self.ledger.add((slot.issue, slot.subscriber_id))
            self.sent.append((slot.subscriber_id, slot.issue, now))
            self.people[slot.subscriber_id] = replace(
                self.people[slot.subscriber_id], last_digest_at=now
            )
        return slots

    def run(
        self,
        start: datetime,
        end: datetime,
        step: timedelta = STEP,
        on_tick: Callable[[World, datetime], None] | None = None,
    ) -> None:
        now = start
        while now < end:
            if on_tick is not None:
                on_tick(self, now)
            self.tick(now)
            now += step

    def local_times(self, sid: int) -> list[datetime]:
        zone = ZoneInfo(self.people[sid].timezone)
        return [at.astimezone(zone) for who, _, at in self.sent if who == sid]


def test_three_zones_across_daylight_saving_changes_get_one_digest_a_day_at_their_hour() -> None:
    # Los Angeles springs forward on 8 March 2026; Auckland falls back on 5 April 2026.
    world = World(
        person(1, "Pacific/Auckland", 8),
        person(2, "America/Los_Angeles", 8),
        person(3, "Asia/Kolkata", 8),
    )
    world.run(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC))
    for sid in (1, 2, 3):
        times = world.local_times(sid)
        days = [t.date() for t in times]
        assert len(days) == len(set(days)), f"subscriber {sid} got two digests in a day"
        assert all(t.hour == 8 and t.minute == 0 for t in times), times
        assert days == sorted(days)
        # Consecutive local days: none missed across the transitions.
        assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    la = world.local_times(2)
    assert any(t.date() == date(2026, 3, 8) and t.utcoffset() == timedelta(hours=-7) for t in la)
    nz = world.local_times(1)
    assert any(t.date() == date(2026, 4, 5) and t.utcoffset() == timedelta(hours=12) for t in nz)


def test_an_hour_skipped_by_spring_forward_delivers_right_after_the_gap() -> None:
    world = World(person(1, "America/Los_Angeles", hour=2))
    world.run(datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    on_the_day = [t for t in world.local_times(1) if t.date() == date(2026, 3, 8)]
    assert [(t.hour, t.minute) for t in on_the_day] == [(3, 0)]


def test_an_hour_repeated_by_fall_back_delivers_once() -> None:
    # Auckland: 3:00 NZDT becomes 2:00 NZST on 5 April 2026, so 2:xx happens twice.
    world = World(person(1, "Pacific/Auckland", hour=2))
    world.run(datetime(2026, 4, 3, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))
    on_the_day = [t for t in world.local_times(1) if t.date() == date(2026, 4, 5)]
    assert len(on_the_day) == 1
    assert on_the_day[0].utcoffset() == timedelta(hours=13)  # the first 2:00, still summer time


def test_weekly_subscribers_get_one_digest_on_their_weekday() -> None:
    world = World(
        person(1, "Asia/Kolkata", 9, frequency="weekly", weekday=2),
        person(2, "America/Los_Angeles", 7, frequency="weekly", weekday=0),
    )
    world.run(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC))
    kolkata = world.local_times(1)
    assert len(kolkata) == 4
    assert all(t.weekday() == 2 and t.hour == 9 for t in kolkata)
    la = world.local_times(2)
    assert len(la) == 4
    assert all(t.weekday() == 0 and t.hour == 7 for t in la)  # including the week of the change
    issues = {issue for who, issue, _ in world.sent if who == 2}
    assert {i.frequency for i in issues} == {"weekly"}
    assert {i.issue_date.weekday() for i in issues} == {0}


def test_catch_up_after_three_days_of_downtime_sends_one_digest_each() -> None:
    last = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    world = World(
        *(
            person(sid, tz, last_digest_at=last)
            for sid, tz in enumerate(("Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"), 1)
        ),
        person(
            4,
            "Asia/Kolkata",
            frequency="weekly",
            weekday=1,
            last_digest_at=last - timedelta(days=7),
        ),
    )
    restart = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)  # down for three days
    assert sorted(s.subscriber_id for s in world.tick(restart)) == [1, 2, 3, 4]
    world.run(restart + STEP, restart + timedelta(hours=3))
    assert len(world.sent) == 4
    # The catch-up digest belongs to the most recent slot; the next one comes at the next slot.
    world.run(restart + timedelta(hours=3), restart + timedelta(days=1, hours=3))
    assert sorted(who for who, _, _ in world.sent) == [1, 1, 2, 2, 3, 3, 4]


def test_the_catch_up_issue_is_the_most_recent_slot() -> None:
    me = person(1, "America/Los_Angeles", 8, last_digest_at=datetime(2026, 3, 2, 16, tzinfo=UTC))
    slot = slot_of(me, datetime(2026, 3, 6, 3, 0, tzinfo=UTC))  # 5 March, 19:00 in LA
    assert slot is not None
    assert slot.issue == IssueKey(date(2026, 3, 5), "daily")
    assert slot.last_digest_at == datetime(2026, 3, 2, 16, tzinfo=UTC)  # new is since then


def test_an_empty_day_is_skipped_and_its_papers_fold_into_the_next_digest() -> None:
    last = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # Friday's digest in Los Angeles
    me = person(1, "America/Los_Angeles", 8, last_digest_at=last)
    saturday = datetime(2026, 3, 7, 16, 0, tzinfo=UTC)
    slot = slot_of(me, saturday)
    assert slot is not None
    # The skip is recorded in the ledger, so Saturday's slot is not retried all day...
    ledger = {(slot.issue, 1)}
    assert unrecorded([slot_of(me, saturday + timedelta(hours=6))], ledger) == []  # type: ignore[list-item]
    # ...and Monday's digest covers everything since Friday's (the weekend folds in).
    monday = slot_of(me, datetime(2026, 3, 9, 15, 5, tzinfo=UTC))
    assert monday is not None
    assert monday.issue.issue_date == date(2026, 3, 9)
    assert monday.last_digest_at == last  # NewPapers counts what was first seen since then


@pytest.mark.parametrize(
    ("before", "after"),
    [("America/Los_Angeles", "Pacific/Auckland"), ("Pacific/Auckland", "America/Los_Angeles")],
)
def test_a_subscriber_who_changes_time_zone_mid_week(before: str, after: str) -> None:
    moved_at = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)  # a Wednesday

    def move(world: World, now: datetime) -> None:
        if now == moved_at:
            world.people[1] = replace(world.people[1], timezone=after)

    world = World(person(1, before, 8, confirmed_at=datetime(2026, 3, 9, tzinfo=UTC)))
    world.run(datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC), on_tick=move)
    times = [at for _, _, at in world.sent]
    assert all(b - a >= timedelta(hours=12) for a, b in itertools.pairwise(times))
    issues = [issue for _, issue, _ in world.sent]
    assert len(issues) == len(set(issues))
    # Before the move at 8:00 in the old zone, after it at 8:00 in the new one.
    old, new = ZoneInfo(before), ZoneInfo(after)
    assert all(t.astimezone(old).hour == 8 for t in times if t < moved_at)
    assert all(t.astimezone(new).hour == 8 for t in times if t > moved_at)
    assert len([t for t in times if t > moved_at]) >= 3


def test_new_subscribers_wait_for_their_first_slot_and_inactive_ones_never_come_due() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    fresh = person(1, "UTC", 8, confirmed_at=now - timedelta(hours=1))
    old = person(2, "UTC", 8)
    paused = person(3, "UTC", 8, status="paused")
    assert due_subscribers([fresh, old, paused], now) == [old]
    assert next_slot_start(fresh, now) == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def test_an_unknown_time_zone_falls_back_to_the_default() -> None:
    me = person(1, "Mars/Olympus_Mons", 8)
    slot = slot_of(me, datetime(2026, 3, 10, 3, 0, tzinfo=UTC), default_zone="Asia/Kolkata")
    assert slot is not None
    assert slot.at == local_hour_start(date(2026, 3, 10), 8, ZoneInfo("Asia/Kolkata"))
