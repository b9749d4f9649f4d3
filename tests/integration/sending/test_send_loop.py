"""The send loop over a RecordingTransport: ledger states, retries, bounces, pauses, resume."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select

from digest.sending.scope import SendScope
from digest.sending.service import send_issue
from digest.sending.transports import OutcomeUnknown, RelayUnavailable, Reply
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import delivered_papers
from subscribers import store
from tests.integration.sending.support import (
    SimpleFactory,
    add_subscribers,
    an_issue,
    ledger_rows,
)


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "sending": settings.sending.model_copy(
                update={"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05}
            )
        }
    )


def test_everyone_due_gets_one_message_and_the_ledger_says_sent(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    ids = add_subscribers(engine, now, [f"r{i}@example.org" for i in range(40)])
    issue = an_issue(engine, now)
    transport = RecordingTransport()
    report = send_issue(
        engine, fast, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    assert report.counts.sent == 40
    assert report.issue.status == "done"
    assert sorted(s.recipient for s in transport.sent) == sorted(
        f"r{i}@example.org" for i in range(40)
    )
    rows = ledger_rows(engine, issue.id)
    assert {sid: r[:2] for sid, r in rows.items()} == {sid: ("sent", 1) for sid in ids}
    with engine.connect() as connection:
        remembered = connection.execute(select(delivered_papers)).all()
    assert len(remembered) == 80
    again = send_issue(
        engine, fast, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    assert again.counts.sent == 0
    assert len(transport.sent) == 40


def test_inactive_suppressed_and_empty_subscribers_are_skipped_with_a_reason(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    active, paused, suppressed, empty = add_subscribers(
        engine, now, ["a@example.org", "p@example.org", "s@example.org", "e@example.org"]
    )
    with transaction(engine) as connection:
        store.update_fields(connection, paused, now, status="paused")
        store.suppress(connection, "s@example.org", "manual", now)
    issue = an_issue(engine, now)
    transport = RecordingTransport()
    factory = SimpleFactory(issue.id, now, empty=frozenset({"e@example.org"}))
    send_issue(engine, fast, issue, now, transport=transport, factory=factory)
    rows = ledger_rows(engine, issue.id)
    assert rows[active][0] == "sent"
    assert rows[paused] == ("skipped", 0, "subscriber is paused")
    assert rows[suppressed] == ("skipped", 0, "the address is on the suppression list")
    assert rows[empty] == ("skipped", 0, "no new papers match this subscriber")
    assert [s.recipient for s in transport.sent] == ["a@example.org"]


def test_temporary_failures_are_retried_with_backoff_then_give_up(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    flaky, hopeless, down = add_subscribers(
        engine, now, ["flaky@example.org", "hopeless@example.org", "down@example.org"]
    )

    def script(recipient: str, attempt: int) -> Reply | Exception:
        if recipient == "flaky@example.org" and attempt < 3:
            return Reply(451, "4.3.0 try again later", "rcpt")
        if recipient == "hopeless@example.org":
            return Reply(421, "4.7.0 too busy", "mail")
        if recipient == "down@example.org" and attempt == 1:
            return RelayUnavailable("cannot connect")
        return Reply(250, "2.0.0 Ok")

    issue = an_issue(engine, now)
    transport = RecordingTransport(script)
    report = send_issue(
        engine, fast, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    rows = ledger_rows(engine, issue.id)
    assert rows[flaky][:2] == ("sent", 3)
    assert rows[down][:2] == ("sent", 2)
    assert rows[hopeless][0] == "failed"
    assert rows[hopeless][1] == fast.sending.max_attempts
    assert "gave up after 5 attempts: 421 4.7.0 too busy" in (rows[hopeless][2] or "")
    assert len(transport.sent) == 2
    assert report.issue.status == "done"


def test_a_bad_mailbox_fails_once_and_joins_the_suppression_list(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    good, bad = add_subscribers(engine, now, ["good@example.org", "bad@example.org"])

    def script(recipient: str, attempt: int) -> Reply:
        if recipient == "bad@example.org":
            return Reply(550, "5.1.1 no such user", "rcpt")
        return Reply(250, "2.0.0 Ok")

    issue = an_issue(engine, now)
    send_issue(
        engine,
        fast,
        issue,
        now,
        transport=RecordingTransport(script),
        factory=SimpleFactory(issue.id, now),
    )
    rows = ledger_rows(engine, issue.id)
    assert rows[bad] == ("failed", 1, "550 5.1.1 no such user")
    assert rows[good][0] == "sent"
    with engine.connect() as connection:
        assert store.is_suppressed(connection, "bad@example.org")
        assert store.get(connection, bad).status == "bounced"


def test_a_policy_rejection_pauses_the_run_and_resume_finishes_it(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    ids = add_subscribers(engine, now, [f"r{i:02}@example.org" for i in range(30)])
    blocked = {"on": True}

    def script(recipient: str, attempt: int) -> Reply:
        if blocked["on"] and recipient == "r05@example.org":
            return Reply(550, "5.7.1 message rejected: DKIM signature missing", "data")
        return Reply(250, "2.0.0 Ok")

    issue = an_issue(engine, now)
    transport = RecordingTransport(script)
    factory = SimpleFactory(issue.id, now)
    report = send_issue(engine, fast, issue, now, transport=transport, factory=factory)
    assert report.paused is not None and "5.7.1" in report.paused
    assert report.issue.status == "paused"
    rows = ledger_rows(engine, issue.id)
    assert rows[ids[5]][:2] == ("pending", 1)
    assert "sending" not in {r[0] for r in rows.values()}
    assert len(transport.sent) < 30
    blocked["on"] = False
    resumed = send_issue(engine, fast, issue, now, transport=transport, factory=factory)
    assert resumed.paused is None and resumed.issue.status == "done"
    assert sorted(s.recipient for s in transport.sent) == sorted(
        f"r{i:02}@example.org" for i in range(30)
    )


def test_the_circuit_breaker_pauses_when_too_many_messages_fail(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    add_subscribers(engine, now, [f"r{i:02}@example.org" for i in range(60)])
    settings = fast.model_copy(
        update={
            "sending": fast.sending.model_copy(
                update={"error_rate_window": 10, "error_rate_threshold": 0.5}
            )
        }
    )
    issue = an_issue(engine, now)
    transport = RecordingTransport(lambda r, a: Reply(554, "5.3.0 broken", "data"))
    report = send_issue(
        engine, settings, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    assert report.paused is not None and "of the last 10 messages failed" in report.paused
    rows = ledger_rows(engine, issue.id)
    statuses = [r[0] for r in rows.values()]
    assert statuses.count("failed") < 60
    assert set(statuses) <= {"failed", "pending"}


def test_an_unknown_outcome_is_reported_and_not_resent(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    cut, fine = add_subscribers(engine, now, ["cut@example.org", "fine@example.org"])

    def script(recipient: str, attempt: int) -> Reply | Exception:
        if recipient == "cut@example.org":
            return OutcomeUnknown("connection lost after the end of DATA")
        return Reply(250, "2.0.0 Ok")

    issue = an_issue(engine, now)
    transport = RecordingTransport(script)
    factory = SimpleFactory(issue.id, now)
    send_issue(engine, fast, issue, now, transport=transport, factory=factory)
    send_issue(engine, fast, issue, now, transport=transport, factory=factory)
    rows = ledger_rows(engine, issue.id)
    assert rows[cut][:2] == ("unknown", 1)
    assert transport.attempts["cut@example.org"] == 1
    assert rows[fine][0] == "sent"
    resend = fast.model_copy(
        update={"sending": fast.sending.model_copy(update={"resend_unknown": True})}
    )
    send_issue(engine, resend, issue, now, transport=RecordingTransport(), factory=factory)
    assert ledger_rows(engine, issue.id)[cut][0] == "sent"


def test_rows_left_in_flight_by_a_crash_become_unknown(
    engine: Engine, fast: Settings, now: datetime
) -> None:
    first, second = add_subscribers(engine, now, ["a@example.org", "b@example.org"])
    issue = an_issue(engine, now)
    from digest.sending import ledger

    with transaction(engine) as connection:
        ledger.seed_pending(connection, SendScope(issue.id), "daily", now)
        ledger.claim(connection, issue.id, [ledger.Claim(first, "<x@y>", ("p",), 10)], now)
    transport = RecordingTransport()
    report = send_issue(
        engine, fast, issue, now, transport=transport, factory=SimpleFactory(issue.id, now)
    )
    assert report.interrupted == 1
    rows = ledger_rows(engine, issue.id)
    assert rows[first][0] == "unknown"
    assert rows[second][0] == "sent"
    assert [s.recipient for s in transport.sent] == ["b@example.org"]


def test_an_id_range_sends_only_to_its_slice(engine: Engine, fast: Settings, now: datetime) -> None:
    ids = add_subscribers(engine, now, [f"r{i}@example.org" for i in range(10)])
    issue = an_issue(engine, now)
    transport = RecordingTransport()
    send_issue(
        engine,
        fast,
        issue,
        now,
        transport=transport,
        factory=SimpleFactory(issue.id, now),
        scope=SendScope(issue.id, ids[2], ids[6]),
    )
    assert sorted(s.recipient for s in transport.sent) == [f"r{i}@example.org" for i in range(3, 7)]
    assert set(ledger_rows(engine, issue.id)) == set(ids[3:7])
