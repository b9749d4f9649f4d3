"""The issue lifecycle's rules: what begin and settle do to an issue's status, for whole runs,
partial runs and queued batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from digest.issues import Issue, get_issue
from digest.sending import ledger, lifecycle
from digest.sending.ledger import Outcome
from digest.sending.scope import SendScope
from papercore.config import Settings
from papercore.db.engine import transaction
from tests.integration.sending.support import add_subscribers, an_issue, ledger_rows


def _finish(engine: Engine, issue_id: int, outcomes: list[Outcome], now: datetime) -> None:
    with transaction(engine) as connection:
        ledger.finish(connection, issue_id, outcomes, now)


def test_a_whole_run_begins_sending_and_settles_done_when_all_is_sent(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    ids = add_subscribers(engine, now, ["a@example.org", "b@example.org"])
    issue = an_issue(engine, now)
    began = lifecycle.begin(engine, settings, SendScope(issue.id), now)
    assert began.waiting == 2 and began.interrupted == 0
    with engine.connect() as connection:
        assert get_issue(connection, issue.id).status == "sending"
    assert {row[0] for row in ledger_rows(engine, issue.id).values()} == {"pending"}
    _finish(engine, issue.id, [Outcome(sid, "sent", "250 ok") for sid in ids], now)
    settled = lifecycle.settle(engine, began.issue, now, None, whole=True)
    assert settled.status == "done" and settled.finished_at is not None


def test_a_paused_run_is_paused_with_its_reason(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    add_subscribers(engine, now, ["a@example.org"])
    issue = an_issue(engine, now)
    began = lifecycle.begin(engine, settings, SendScope(issue.id), now)
    settled = lifecycle.settle(engine, began.issue, now, "the relay said no", whole=True)
    assert (settled.status, settled.pause_reason) == ("paused", "the relay said no")


def test_a_whole_run_with_deferred_messages_pauses_until_the_retry(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    (sid,) = add_subscribers(engine, now, ["a@example.org"])
    issue = an_issue(engine, now)
    began = lifecycle.begin(engine, settings, SendScope(issue.id), now)
    later = now + timedelta(minutes=5)
    _finish(engine, issue.id, [Outcome(sid, "deferred", "451", next_attempt_at=later)], now)
    settled = lifecycle.settle(engine, began.issue, now, None, whole=True)
    assert settled.status == "paused"
    assert settled.pause_reason is not None and "--resume" in settled.pause_reason


def test_a_partial_run_puts_back_the_status_it_found(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    _, second = add_subscribers(engine, now, ["a@example.org", "b@example.org"])
    issue = an_issue(engine, now)
    part = SendScope.of(issue.id, second)
    assert not part.whole
    began = lifecycle.begin(engine, settings, part, now)
    assert began.issue.status == "open" and began.waiting == 1
    assert set(ledger_rows(engine, issue.id)) == {second}  # only the scope was seeded
    _finish(engine, issue.id, [Outcome(second, "sent", "250 ok")], now)
    assert lifecycle.settle(engine, began.issue, now, None, whole=False).status == "open"
    # ... unless it paused
    began = lifecycle.begin(engine, settings, part, now)
    assert lifecycle.settle(engine, began.issue, now, "stop", whole=False).status == "paused"


def test_a_batch_opens_the_issue_and_the_last_batch_finishes_it(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    first, second = add_subscribers(engine, now, ["a@example.org", "b@example.org"])
    issue = an_issue(engine, now)
    with transaction(engine) as connection:
        ledger.seed_pending(connection, SendScope(issue.id), "daily", now)
    one, two = SendScope(issue.id, 0, first), SendScope(issue.id, first, second)
    requeued: list[datetime] = []

    def requeue(connection: Connection, when: datetime) -> None:
        requeued.append(when)

    assert lifecycle.begin_batch(engine, settings, one, now).issue.status == "open"
    later = now + timedelta(minutes=5)
    _finish(engine, issue.id, [Outcome(first, "deferred", "451", next_attempt_at=later)], now)
    settled = lifecycle.settle_batch(engine, one, now, None, requeue)
    assert settled.status == "sending" and requeued == [later]  # others still to send
    lifecycle.begin_batch(engine, settings, two, now)
    _finish(engine, issue.id, [Outcome(second, "sent", "250 ok")], now)
    assert lifecycle.settle_batch(engine, two, now, None, requeue).status == "sending"
    _finish(engine, issue.id, [Outcome(first, "sent", "250 ok")], now)
    assert lifecycle.settle_batch(engine, one, now, None, requeue).status == "done"


def test_a_paused_batch_pauses_the_issue_and_a_later_batch_leaves_it_paused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    add_subscribers(engine, now, ["a@example.org"])
    issue = an_issue(engine, now)
    scope = SendScope(issue.id)
    with transaction(engine) as connection:
        ledger.seed_pending(connection, scope, "daily", now)
    settled = lifecycle.settle_batch(engine, scope, now, "breaker", lambda c, w: None)
    assert (settled.status, settled.pause_reason) == ("paused", "breaker")
    assert lifecycle.begin_batch(engine, settings, scope, now).issue.status == "paused"
    with engine.connect() as connection:
        assert get_issue(connection, issue.id).status == "paused"


def test_filing_feeds_settles_only_an_open_issue_with_nothing_left_to_send(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    (sid,) = add_subscribers(engine, now, ["a@example.org"])

    def on_day(days: int) -> Issue:
        return lifecycle.open_for(engine, (now + timedelta(days=days)).date(), "daily", now)

    filed_only = on_day(0)
    assert lifecycle.settle_filed(engine, filed_only.id, now).status == "done"

    queued = on_day(1)  # mail queued for workers, not yet sent
    with transaction(engine) as connection:
        ledger.add_pending(connection, queued.id, [sid], now)
    assert lifecycle.settle_filed(engine, queued.id, now).status == "open"

    running = on_day(2)
    lifecycle.begin(engine, settings, SendScope(running.id), now)  # a send run has it
    assert lifecycle.settle_filed(engine, running.id, now).status == "sending"
