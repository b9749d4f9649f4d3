"""The 30-day bounce rate counts the bounces the relay refused at RCPT during the send (the
send loop records them ``failed``) as well as the ones that came back later."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from digest.inbound.process import Inbound
from digest.inbound.rates import return_rates
from digest.sending.service import send_issue
from digest.sending.transports import Reply
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from tests.integration.inbound.support import CORPUS, delivery_status, message_id
from tests.integration.sending.support import SimpleFactory, add_subscribers, an_issue

REFUSED = {
    "gone@example.org": Reply(550, "5.1.1 <gone@example.org>: User unknown", "rcpt"),
    "big@example.org": Reply(552, "5.2.2 mailbox full", "data"),  # failed, not a bounce
}


def _script(recipient: str, attempt: int) -> Reply:
    return REFUSED.get(recipient, Reply(250, "2.0.0 Ok"))


def test_a_mailbox_refused_at_rcpt_counts_in_the_bounce_rate(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    emails = ["gone@example.org", "big@example.org"] + [f"r{i}@example.org" for i in range(8)]
    add_subscribers(engine, now, emails)
    issue = an_issue(engine, now)
    report = send_issue(
        engine,
        settings,
        issue,
        now,
        transport=RecordingTransport(_script),
        factory=SimpleFactory(issue.id, now),
    )
    assert (report.counts.sent, report.counts.failed, report.counts.bounced) == (8, 2, 1)

    with engine.connect() as connection:
        rates = return_rates(connection, now + timedelta(hours=1))
        month_later = return_rates(connection, now + timedelta(days=31))
    # 8 left, 1 refused as a bounce; the full mailbox is neither sent nor bounced
    assert (rates.sent, rates.bounced) == (9, 1)
    assert any("bounce rate 11.11%" in w for w in rates.warnings)
    assert (month_later.sent, month_later.bounced) == (0, 0)


def test_a_refused_message_a_dsn_names_later_still_counts_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    emails = ["gone@example.org", "fine@example.org"]
    ids = dict(zip(emails, add_subscribers(engine, now, emails), strict=True))
    issue = an_issue(engine, now)
    send_issue(
        engine,
        settings,
        issue,
        now,
        transport=RecordingTransport(_script),
        factory=SimpleFactory(issue.id, now),
    )
    gone = emails[0]
    dsn = (
        (CORPUS / "postfix_hard.eml")
        .read_text()
        .replace("nobody.here@example.com", gone)
        .replace(
            "<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>",
            message_id(issue.id, ids[gone]),  # SimpleFactory's (keyed) Message-ID
        )
    )
    handled = Inbound(engine, settings, clock=lambda: now).handle_message(dsn.encode(), via="smtp")
    assert handled.email == gone
    assert delivery_status(engine, issue.id, gone) == "bounced"  # failed, then named by a DSN
    with engine.connect() as connection:
        rates = return_rates(connection, now + timedelta(hours=1))
    assert (rates.sent, rates.bounced) == (2, 1)
