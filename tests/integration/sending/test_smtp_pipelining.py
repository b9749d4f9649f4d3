"""The lean client pipelines MAIL, RCPT and DATA when the relay offers PIPELINING (RFC 2920): the
same faults end with the same ledger and the same single copy of each message at the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from digest.sending.sink import SmtpServer
from papercore.config import Settings
from tests.integration.sending.faults import FaultyHandler
from tests.integration.sending.test_smtp_faults import EMAILS, configured, send, statuses


@dataclass
class Pipelining(FaultyHandler):
    offered: int = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> list[str]:
        session.host_name = hostname
        self.offered += 1
        return [responses[0], "250-PIPELINING", *responses[1:]]


def test_refused_recipients_and_retries_over_a_pipelining_relay(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = Pipelining(
        rcpt={
            EMAILS[0]: ["550 5.1.1 unknown user"],
            EMAILS[1]: ["450 4.2.1 mailbox busy"],
            EMAILS[3]: ["552 5.2.2 mailbox full"],
        }
    )
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    assert handler.offered >= 1
    assert statuses(engine, report, ids) == {
        EMAILS[0]: ("failed", 1),
        EMAILS[1]: ("sent", 2),
        EMAILS[2]: ("sent", 1),
        EMAILS[3]: ("failed", 1),
        EMAILS[4]: ("sent", 1),
        EMAILS[5]: ("sent", 1),
    }
    assert [handler.count_for(e) for e in EMAILS] == [0, 1, 1, 0, 1, 1]


def test_a_cut_after_the_final_dot_over_a_pipelining_relay_is_unknown(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = Pipelining(data={EMAILS[4]: ["cut"]})
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert found[EMAILS[4]] == ("unknown", 1)
    assert all(found[e] == ("sent", 1) for e in EMAILS if e != EMAILS[4])
    assert all(handler.count_for(e) == 1 for e in EMAILS)


def test_a_stalled_mail_over_a_pipelining_relay_is_retried_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    handler = Pipelining(mail_stall_first=1, stall_seconds=2.0)
    with SmtpServer(handler) as server:
        report, ids = send(engine, configured(settings, server.port), now)
    found = statuses(engine, report, ids)
    assert sorted(a for _, a in found.values()) == [1, 1, 1, 1, 1, 2]
    assert {s for s, _ in found.values()} == {"sent"}
    assert all(handler.count_for(e) == 1 for e in EMAILS)
