"""Delivery passes against a real database, the real send service and a recording transport,
with a fake clock: who gets mail when, what the ledger says, and how catch-up and skips work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from digest.ingest import ingest_locations
from digest.schedule.deliver import RangeBuilder, deliver
from digest.schedule.due import IssueKey
from digest.schedule.inline import InlineSender
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import deliveries, issues, subscribers
from papercore.papers import paper_id_for
from subscribers import store
from tests.conftest import SAMPLE_PAGES

# Monday 9 March 2026, the day after Los Angeles moved to summer time.
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)
JOINED = MONDAY - timedelta(days=10)


@dataclass
class Bench:
    engine: Engine
    settings: Settings
    transport: RecordingTransport = field(default_factory=RecordingTransport)

    def __post_init__(self) -> None:
        self.sender = InlineSender(self.engine, self.settings, self.transport)

    def add(self, email: str, tz: str, hour: int = 8, **fields: Any) -> int:
        with transaction(self.engine) as connection:
            last = fields.pop("last_digest_at", None)
            sid = store.add(
                connection,
                email,
                JOINED,
                status=fields.pop("status", "active"),
                timezone=tz,
                hour=hour,
                topics=("neural networks",),
                **fields,
            )
            store.update_fields(connection, sid, JOINED, confirmed_at=JOINED, last_digest_at=last)
        return sid

    def collect(self, now: datetime) -> None:
        ingest_locations(
            self.engine, [str(p) for p in SAMPLE_PAGES], "page", self.settings.sources, now
        )

    async def deliver_at(self, now: datetime) -> list[str]:
        before = len(self.transport.sent)
        await deliver(self.engine, self.settings, self.sender, now)
        return [s.recipient for s in self.transport.sent[before:]]

    def ledger(self) -> list[tuple[str, str, str, str | None]]:
        """(email, issue date/frequency, status, reason) for every delivery row."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    subscribers.c.email,
                    issues.c.issue_date,
                    issues.c.frequency,
                    deliveries.c.status,
                    deliveries.c.last_reply,
                )
                .join(deliveries, deliveries.c.subscriber_id == subscribers.c.id)
                .join(issues, issues.c.id == deliveries.c.issue_id)
                .order_by(subscribers.c.email, issues.c.issue_date)
            )
            return [
                (r.email, f"{r.issue_date}/{r.frequency}", r.status, r.last_reply) for r in rows
            ]

    def last_digest_at(self, email: str) -> datetime | None:
        with self.engine.connect() as connection:
            return store.get_by_email(connection, email).last_digest_at


@pytest.fixture
def bench(engine: Engine, settings: Settings) -> Bench:
    settings.ranking.semantic = "off"  # the lexical ranker: no model to load
    return Bench(engine, settings)


async def test_each_zone_gets_its_digest_once_its_local_hour_has_come(bench: Bench) -> None:
    sunday = MONDAY - timedelta(days=1)
    # Each had Sunday's digest at 8:00 local; Monday's 8:00 local is at the hour in the comment.
    bench.add(  # 8:00 NZDT = 19:00 UTC the day before
        "kiwi@example.org", "Pacific/Auckland", last_digest_at=sunday + timedelta(hours=19)
    )
    bench.add(  # 8:00 PDT = 15:00 UTC
        "angeleno@example.org", "America/Los_Angeles", last_digest_at=sunday + timedelta(hours=15)
    )
    bench.add(  # 8:00 IST = 02:30 UTC
        "mumbai@example.org", "Asia/Kolkata", last_digest_at=sunday + timedelta(hours=2.5)
    )
    bench.collect(MONDAY - timedelta(hours=1))
    got: dict[str, list[datetime]] = {}
    now = MONDAY
    while now < MONDAY + timedelta(days=1):
        for who in await bench.deliver_at(now):
            got.setdefault(who, []).append(now)
        now += timedelta(minutes=30)
    assert got == {
        "mumbai@example.org": [MONDAY + timedelta(hours=2.5)],
        "angeleno@example.org": [MONDAY + timedelta(hours=15)],
        "kiwi@example.org": [MONDAY + timedelta(hours=19)],
    }
    ledger = bench.ledger()
    assert [(e, i, s) for e, i, s, _ in ledger] == [
        ("angeleno@example.org", "2026-03-09/daily", "sent"),
        ("kiwi@example.org", "2026-03-10/daily", "sent"),
        ("mumbai@example.org", "2026-03-09/daily", "sent"),
    ]
    # The message is a real digest, and the ledger moved the subscriber's last digest.
    message = message_from_bytes(bench.transport.received_by("mumbai@example.org")[0])
    assert message["To"] == "mumbai@example.org"
    assert message["List-Unsubscribe"]
    assert bench.last_digest_at("mumbai@example.org") is not None


async def test_catch_up_after_three_days_down_sends_one_digest_each(bench: Bench) -> None:
    people = ["a@example.org", "b@example.org", "c@example.org"]
    for email, tz in zip(
        people, ["Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"], strict=True
    ):
        bench.add(email, tz)
    bench.collect(MONDAY - timedelta(days=4))
    friday = MONDAY - timedelta(days=3)
    with transaction(bench.engine) as connection:
        connection.execute(subscribers.update().values(last_digest_at=friday - timedelta(days=2)))
    # Down from Friday to Monday noon: the first pass after the restart mails everyone once.
    restart = MONDAY + timedelta(hours=12)
    assert sorted(await bench.deliver_at(restart)) == people
    for minutes in range(5, 120, 5):
        assert await bench.deliver_at(restart + timedelta(minutes=minutes)) == []
    assert len(bench.transport.sent) == 3
    assert {status for _, _, status, _ in bench.ledger()} == {"sent"}


async def test_an_empty_day_is_skipped_and_the_next_digest_covers_it(
    bench: Bench, tmp_path: Path
) -> None:
    bench.add("quiet@example.org", "UTC", hour=8)
    bench.collect(MONDAY - timedelta(days=2))
    assert await bench.deliver_at(MONDAY - timedelta(days=1) + timedelta(hours=9)) == [
        "quiet@example.org"
    ]
    first = bench.last_digest_at("quiet@example.org")
    # Monday: nothing was collected since Sunday's digest.
    for hours in (8, 9, 15, 23):
        assert await bench.deliver_at(MONDAY + timedelta(hours=hours)) == []
    assert bench.ledger()[-1] == (
        "quiet@example.org",
        "2026-03-09/daily",
        "skipped",
        f"no papers were collected since their last digest ({first:%Y-%m-%d %H:%M} UTC)",
    )
    assert bench.last_digest_at("quiet@example.org") == first  # the papers fold into the next
    with bench.engine.connect() as connection:  # an issue of skips only is settled, not open
        statuses = dict(connection.execute(select(issues.c.issue_date, issues.c.status)).all())
    assert statuses[MONDAY.date()] == "done"
    # Monday night one new paper arrives; Tuesday's digest brings it.
    page = tmp_path / "monday.txt"
    page.write_text(
        "Mar 9\n\nSparse neural networks for tiny devices\n\n"
        "We prune neural networks until they fit on a microcontroller, keeping accuracy.\n",
        encoding="utf-8",
    )
    ingest_locations(
        bench.engine, [str(page)], "page", bench.settings.sources, MONDAY + timedelta(hours=22)
    )
    assert await bench.deliver_at(MONDAY + timedelta(days=1, hours=8)) == ["quiet@example.org"]
    with bench.engine.connect() as connection:
        papers_sent = (
            connection.execute(select(deliveries.c.paper_ids).where(deliveries.c.status == "sent"))
            .scalars()
            .all()
        )
    assert any(
        p == paper_id_for("Sparse neural networks for tiny devices", None) for p in papers_sent[-1]
    )


async def test_only_due_subscribers_in_an_interleaved_id_range_are_mailed(bench: Bench) -> None:
    at6 = MONDAY - timedelta(hours=18)  # each had their previous digest on time
    bench.add("due1@example.org", "UTC", hour=6, last_digest_at=at6)
    bench.add("later@example.org", "UTC", hour=20, last_digest_at=MONDAY - timedelta(hours=4))
    bench.add("paused@example.org", "UTC", hour=6, status="paused", last_digest_at=at6)
    bench.add("due2@example.org", "UTC", hour=6, last_digest_at=at6)
    thursday = MONDAY - timedelta(days=4, hours=18)
    bench.add(
        "weekly@example.org", "UTC", 6, frequency="weekly", weekday=3, last_digest_at=thursday
    )
    bench.add("due3@example.org", "UTC", hour=6, last_digest_at=at6)
    bench.collect(MONDAY - timedelta(hours=1))
    mailed = await bench.deliver_at(MONDAY + timedelta(hours=7))
    assert sorted(mailed) == ["due1@example.org", "due2@example.org", "due3@example.org"]
    # Nobody else got a ledger row (not even a "skipped" one for the paused subscriber).
    assert {e for e, _, _, _ in bench.ledger()} == set(mailed)


def test_ranges_never_contain_someone_of_the_same_frequency_not_handed_over() -> None:
    monday = IssueKey(MONDAY.date(), "daily")
    tuesday = IssueKey(MONDAY.date() + timedelta(days=1), "daily")
    weekly = IssueKey(MONDAY.date(), "weekly")
    builder = RangeBuilder()
    plan: list[tuple[int, str, IssueKey | None]] = [
        (1, "daily", monday),
        (2, "weekly", weekly),  # another frequency: does not break the daily range
        (3, "daily", monday),
        (4, "daily", None),  # not due: breaks it
        (5, "daily", tuesday),
        (6, "daily", monday),
        (9, "weekly", weekly),
    ]
    for sid, frequency, issue in plan:
        builder.add(sid, frequency, issue)  # type: ignore[arg-type]
    ranges = {k: list(v) for k, v in builder.finish().items()}
    assert ranges == {monday: [(0, 3), (5, 6)], tuesday: [(4, 5)], weekly: [(1, 9)]}


def issue_statuses(bench: Bench) -> dict[str, str]:
    with bench.engine.connect() as connection:
        rows = connection.execute(select(issues.c.issue_date, issues.c.frequency, issues.c.status))
        return {f"{r.issue_date}/{r.frequency}": r.status for r in rows}


async def test_an_issue_opened_only_for_feeds_is_done_once_filed(bench: Bench) -> None:
    bench.add("reader@example.org", "UTC", hour=8, frequency="feed")
    bench.collect(MONDAY - timedelta(hours=1))
    assert await bench.deliver_at(MONDAY + timedelta(hours=8)) == []  # no mail
    assert [row[:3] for row in bench.ledger()] == [
        ("reader@example.org", "2026-03-09/daily", "filed")
    ]
    assert issue_statuses(bench) == {"2026-03-09/daily": "done"}
    # Tuesday brings nothing new: the issue opened only to record the skip is done too.
    assert await bench.deliver_at(MONDAY + timedelta(days=1, hours=8)) == []
    assert bench.ledger()[-1][1:3] == ("2026-03-10/daily", "skipped")
    assert issue_statuses(bench)["2026-03-10/daily"] == "done"


async def test_mail_and_feed_of_one_issue_in_one_pass_hold_the_same_papers(bench: Bench) -> None:
    bench.add("mailed@example.org", "UTC", hour=8)
    bench.add("feed@example.org", "UTC", hour=8, frequency="feed")
    bench.collect(MONDAY - timedelta(hours=1))
    assert await bench.deliver_at(MONDAY + timedelta(hours=8)) == ["mailed@example.org"]
    with bench.engine.connect() as connection:
        papers = dict(
            connection.execute(
                select(deliveries.c.status, deliveries.c.paper_ids).order_by(deliveries.c.id)
            ).all()
        )
    assert set(papers) == {"sent", "filed"} and papers["sent"] and papers["sent"] == papers["filed"]
    assert issue_statuses(bench) == {"2026-03-09/daily": "done"}  # the mail's run settled it
