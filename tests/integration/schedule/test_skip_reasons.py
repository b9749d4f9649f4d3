"""Every reason a digest is skipped names something true of that subscriber (issue 23): each
reason the scheduler, the send and the dry run can give is brought about here, and its words
are checked against the facts (never "since the last digest" for someone who never had one).

The reasons: nothing new for a first digest (the lookback is empty), nothing new since the last
digest, new papers that match nothing of theirs, a subscriber who is not active, an address on
the suppression list, and a finished ledger row (the dry run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from digest import paper_store
from digest.ingest import ingest_locations
from digest.issues import Issue, find_issue
from digest.personal.builder import NO_MATCH
from digest.sending.service import preview
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from tests.integration.schedule.test_deliver import MONDAY, Bench

SLOT = MONDAY + timedelta(hours=9)  # 08:00 UTC has begun: everyone at hour 8 in UTC is due


def bench_of(engine: Engine, settings: Settings) -> Bench:
    settings.ranking.semantic = "off"
    return Bench(engine, settings)


def reason_of(bench: Bench, email: str) -> str:
    found = [why for who, _, status, why in bench.ledger() if who == email]
    assert len(found) == 1 and found[0] is not None, bench.ledger()
    return found[0]


async def test_a_first_digest_with_an_empty_lookback_says_so_and_not_last_digest(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    bench = bench_of(engine, settings)
    page = tmp_path / "january.txt"  # papers exist, but none from the last 7 days
    page.write_text(
        "Jan 20\n\nSparse neural networks for tiny devices\n\n"
        "We prune neural networks until they fit on a microcontroller, keeping accuracy.\n",
        encoding="utf-8",
    )
    ingest_locations(engine, [str(page)], "page", settings.sources, MONDAY - timedelta(days=30))
    bench.add("new@example.org", "UTC")
    assert await bench.deliver_at(SLOT) == []
    why = reason_of(bench, "new@example.org")
    assert bench.last_digest_at("new@example.org") is None  # the fact: never had one
    assert "last digest" not in why
    assert why == (
        "their first digest found no papers collected or published since 2026-03-02 "
        "(its lookback)"
    )
    with engine.connect() as connection:  # the fact: nothing was collected since then
        lookback = datetime(2026, 3, 2, tzinfo=UTC)
        assert paper_store.papers_first_seen_since(connection, lookback) == 0


async def test_nothing_collected_since_the_last_digest_names_that_digest(
    engine: Engine, settings: Settings
) -> None:
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(days=2))
    last = MONDAY - timedelta(hours=16)  # Sunday 08:00 UTC
    bench.add("old@example.org", "UTC", last_digest_at=last)
    assert await bench.deliver_at(SLOT) == []
    why = reason_of(bench, "old@example.org")
    assert why == "no papers were collected since their last digest (2026-03-08 08:00 UTC)"
    with engine.connect() as connection:  # the facts: that digest, and nothing newer
        assert store.get_by_email(connection, "old@example.org").last_digest_at == last
        newer = paper_store.papers_first_seen_since(connection, last + timedelta(seconds=1))
    assert newer == 0


async def test_a_first_digest_of_a_recent_collect_is_sent_not_skipped(
    engine: Engine, settings: Settings
) -> None:
    # Issue 23's case: the reader joined after the day's collect; the lookback has papers.
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(hours=1))
    sid = bench.add("joined-later@example.org", "UTC")
    with transaction(engine) as connection:
        store.update_fields(connection, sid, MONDAY, confirmed_at=MONDAY + timedelta(minutes=5))
    assert await bench.deliver_at(SLOT) == ["joined-later@example.org"]


async def test_new_papers_that_match_nothing_of_theirs_say_no_match(
    engine: Engine, settings: Settings
) -> None:
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(hours=1))
    sid = bench.add("odd@example.org", "UTC")
    with transaction(engine) as connection:
        store.set_interests(connection, sid, "topic", ["xylophonist zeugma"])  # matches none
    assert await bench.deliver_at(SLOT) == []
    assert reason_of(bench, "odd@example.org") == NO_MATCH
    with engine.connect() as connection:  # the fact: papers were new to them
        assert paper_store.papers_first_seen_since(connection, MONDAY - timedelta(days=1)) > 0


def test_the_dry_run_gives_the_sends_reasons_and_reads_the_ledger(
    engine: Engine, settings: Settings
) -> None:
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(hours=1))
    bench.add("paused@example.org", "UTC", status="paused")
    bench.add("bounced@example.org", "UTC")
    bench.add("odd@example.org", "UTC")
    bench.add("fine@example.org", "UTC")
    with transaction(engine) as connection:
        store.suppress(connection, "bounced@example.org", "bounce", MONDAY)
        odd = store.get_by_email(connection, "odd@example.org").id
        store.set_interests(connection, odd, "topic", ["xylophonist zeugma"])
    issue = Issue(0, MONDAY.date(), "daily", "open", None, MONDAY, None)
    said = {s.email: (m is not None, why) for s, m, why in preview(engine, settings, issue, SLOT)}
    assert said == {
        "paused@example.org": (False, "subscriber is paused"),
        "bounced@example.org": (False, "the address is on the suppression list"),
        "odd@example.org": (False, NO_MATCH),
        "fine@example.org": (True, None),
    }


async def test_the_dry_run_says_a_recorded_skip_stays_and_counts_no_message_for_it(
    engine: Engine, settings: Settings
) -> None:
    # Issue 23: the dry run listed a reader the scheduler had skipped as "would be sent", and the
    # real `send --resume` then sent 0 (a send never rewrites a finished row).
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(days=2))
    bench.add("old@example.org", "UTC", last_digest_at=MONDAY - timedelta(hours=16))
    assert await bench.deliver_at(SLOT) == []
    with engine.connect() as connection:
        issue = find_issue(connection, MONDAY.date(), "daily")
    assert issue is not None
    said = [(s.email, m, why) for s, m, why in preview(engine, settings, issue, SLOT)]
    assert said == [("old@example.org", None, "already skipped in this issue")]


async def test_a_feed_only_reader_with_nothing_new_is_told_the_same_true_reason(
    engine: Engine, settings: Settings
) -> None:
    bench = bench_of(engine, settings)
    bench.collect(MONDAY - timedelta(days=2))
    bench.add(
        "feed@example.org", "UTC", frequency="feed", last_digest_at=MONDAY - timedelta(hours=16)
    )
    assert await bench.deliver_at(SLOT) == []  # no mail, whatever happens
    assert reason_of(bench, "feed@example.org") == (
        "no papers were collected since their last digest (2026-03-08 08:00 UTC)"
    )
