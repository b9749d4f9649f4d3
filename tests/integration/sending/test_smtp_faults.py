"""The real SMTP transport against aiosmtpd servers that misbehave on purpose. Each test ends
with the ledger exactly right and every message counted at the server once (or, for an unknown
outcome, reported as such and never sent twice)."""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from typing import Any, ClassVar

from aiosmtpd.smtp import SMTP
from sqlalchemy import Engine

from digest.sending.service import SendReport, send_issue
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.config import Settings
from tests.integration.sending.faults import DropMidData, FaultyHandler, free_port
from tests.integration.sending.support import (
    SimpleFactory,
    add_subscribers,
    an_issue,
    ledger_rows,
)

EMAILS = [f"reader{i}@example.org" for i in range(6)]


def configured(settings: Settings, port: int, **sending: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp": settings.smtp.model_copy(update={"port": port, "timeout": 0.5, "pool_size": 2}),
            "sending": settings.sending.model_copy(
                update={"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2, **sending}
            ),
        }
    )


def send(engine: Engine, settings: Settings, now: datetime) -> tuple[SendReport, dict[str, int]]:
    """Subscribe EMAILS and send them an issue; returns the report and email → subscriber id."""
    ids = add_subscribers(engine, now, EMAILS)
    issue = an_issue(engine, now)
    report = send_issue(engine, settings, issue, now, factory=SimpleFactory(issue.id, now))
    return report, dict(zip(EMAILS, ids, strict=True))


def statuses(engine: Engine, report: SendReport, ids: dict[str, int]) -> dict[str, tuple[str, int]]:
    rows = ledger_rows(engine, report.issue.id)
    return {email: rows[ids[email]][:2] for email in EMAILS}


def test_a_4xx_then_success_is_retried_and_delivered_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(rcpt={EMAILS[1]: ["451 4.3.0 try again later"] * 2})
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert found[EMAILS[1]] == ("sent", 3)
    assert all(found[e] == ("sent", 1) for e in EMAILS if e != EMAILS[1])
    assert all(handler.count_for(e) == 1 for e in EMAILS)
    assert report.issue.status == "done"


def test_a_bad_mailbox_is_failed_and_suppressed_and_others_arrive(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(rcpt={EMAILS[2]: ["550 5.1.1 <reader2@example.org>: no such user"]})
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert found[EMAILS[2]] == ("failed", 1)
    assert handler.count_for(EMAILS[2]) == 0
    assert all(
        found[e] == ("sent", 1) and handler.count_for(e) == 1 for e in EMAILS if e != EMAILS[2]
    )
    from subscribers import store

    with engine.connect() as connection:
        assert store.is_suppressed(connection, EMAILS[2])


def test_a_policy_rejection_pauses_the_run_and_says_why(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(data_all="550 5.7.1 Message rejected: SPF check failed")
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    assert report.paused is not None and "5.7.1" in report.paused and "SPF" in report.paused
    assert report.issue.status == "paused"
    found = statuses(engine, report, ids)
    assert {s for s, _ in found.values()} == {"pending"}
    assert sum(a for _, a in found.values()) >= 1
    assert not handler.received
    handler.data_all = None
    with SmtpServer(handler) as server:
        issue = report.issue
        again = send_issue(
            engine,
            configured(settings, server.port),
            issue,
            now,
            factory=SimpleFactory(issue.id, now),
        )
    assert again.issue.status == "done"
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_disconnect_mid_data_is_retried_and_delivered_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = SinkHandler()

    class Dropper(DropMidData):
        drop: ClassVar[set[str]] = {EMAILS[0], EMAILS[3]}
        dropped: ClassVar[set[str]] = set()

    with SmtpServer(handler, smtp_class=Dropper) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert Dropper.dropped == {EMAILS[0], EMAILS[3]}
    assert found[EMAILS[0]] == ("sent", 2) and found[EMAILS[3]] == ("sent", 2)
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_cut_after_the_final_dot_is_unknown_and_never_resent(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(data={EMAILS[4]: ["cut"]})
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
        issue = report.issue
        send_issue(
            engine,
            configured(settings, server.port),
            issue,
            now,
            factory=SimpleFactory(issue.id, now),
        )
    found = statuses(engine, report, ids)
    assert found[EMAILS[4]] == ("unknown", 1)
    assert handler.data_attempts[EMAILS[4]] == 1
    assert all(found[e] == ("sent", 1) for e in EMAILS if e != EMAILS[4])
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_stalling_server_times_out_and_the_message_is_retried(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(mail_stall_first=1, stall_seconds=2.0)
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert sorted(a for _, a in found.values()) == [1, 1, 1, 1, 1, 2]
    assert {s for s, _ in found.values()} == {"sent"}
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_stall_after_the_final_dot_is_an_unknown_outcome(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(data={EMAILS[5]: ["stall"]}, stall_seconds=1.0)
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert found[EMAILS[5]] == ("unknown", 1)
    assert handler.data_attempts[EMAILS[5]] == 1
    assert all(found[e] == ("sent", 1) for e in EMAILS if e != EMAILS[5])


def test_a_server_that_is_down_then_up_gets_everything_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    port = free_port()
    handler = SinkHandler()
    server = SmtpServer(handler, port=port)
    # Down until the first attempt has been made (it is hung up on before the greeting), then
    # up: whenever the sender gets to its first connection, however long composing took.
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(60)

    def down_then_up() -> None:
        try:
            connection, _ = listener.accept()
            connection.close()
        finally:
            listener.close()
            server.start()

    starter = threading.Thread(target=down_then_up)
    starter.start()
    try:
        report, ids = send(engine, configured(settings, port, max_attempts=20), now)
    finally:
        starter.join()
        server.stop()
    found = statuses(engine, report, ids)
    assert {s for s, _ in found.values()} == {"sent"}
    assert max(a for _, a in found.values()) >= 2
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_server_refusing_some_recipients(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = FaultyHandler(
        rcpt={
            EMAILS[0]: ["550 5.1.1 unknown user"],
            EMAILS[1]: ["450 4.2.1 mailbox busy"],
            EMAILS[2]: ["553 5.1.3 bad address syntax"],
            EMAILS[3]: ["552 5.2.2 mailbox full"],
        }
    )
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert found == {
        EMAILS[0]: ("failed", 1),
        EMAILS[1]: ("sent", 2),
        EMAILS[2]: ("failed", 1),
        EMAILS[3]: ("failed", 1),
        EMAILS[4]: ("sent", 1),
        EMAILS[5]: ("sent", 1),
    }
    assert [handler.count_for(e) for e in EMAILS] == [0, 1, 0, 0, 1, 1]
    from subscribers import store

    with engine.connect() as connection:
        suppressed = [store.is_suppressed(connection, e) for e in EMAILS[:4]]
    assert suppressed == [True, False, True, False]


def test_the_pool_keeps_its_connections_open_between_messages(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    opened: list[int] = []

    class Counting(SMTP):
        def connection_made(self, transport: Any) -> None:
            opened.append(1)
            super().connection_made(transport)

    handler = FaultyHandler()
    with SmtpServer(handler, smtp_class=Counting) as server:
        send(engine, configured(settings, server.port), now)
    assert all(handler.count_for(e) == 1 for e in EMAILS)
    assert 1 <= len(opened) <= 2  # pool_size 2, six messages
