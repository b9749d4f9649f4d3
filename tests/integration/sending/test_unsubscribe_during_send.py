"""Issue 22, item 10: an unsubscribe during a running send stops that subscriber's message if it
has not yet been handed to the relay. The real send path (``send_issue``: runner, send loop,
ledger, SMTP transport) against a real aiosmtpd server that holds the first message until the
test has unsubscribed people through the web app's RFC 8058 one-click POST, the page button and
a mailed unsubscribe (what `digest inbound` hands over); SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from digest.inbound.process import Inbound
from digest.sending.recheck import StatusRecheck
from digest.sending.service import SendReport, send_issue
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.tokens import Signer
from subscribers.unsubscribe import unsubscribe
from tests.integration.inbound.support import CORPUS
from tests.integration.sending.support import (
    SimpleFactory,
    add_subscribers,
    an_issue,
    ledger_rows,
)
from tests.web_site import Clock, Site

EMAILS = [f"reader{i:02d}@example.org" for i in range(24)]


@dataclass
class HoldFirst(SinkHandler):
    """Keeps every message, but answers the first DATA only once ``release`` is set."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not self.arrived.is_set():
            self.arrived.set()
            released = await asyncio.to_thread(self.release.wait, 30)
            assert released, "the test never released the first message"
        return await super().handle_DATA(server, session, envelope)


def configured(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "smtp": settings.smtp.model_copy(update={"port": port, "pool_size": 1}),
            "sending": settings.sending.model_copy(
                update={"processes": 1, "rate_per_second": 1000.0}
            ),
        }
    )


def test_people_who_unsubscribe_while_an_issue_is_sending_get_nothing(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    ids = dict(zip(EMAILS, add_subscribers(engine, now, EMAILS), strict=True))
    issue = an_issue(engine, now)
    site = Site(settings, engine, Clock(now))
    signer = Signer.from_settings(settings.web)
    # past the first page (8 messages with one connection), so not yet claimed when they leave
    leaving_by_header = EMAILS[10:16]
    leaving_by_button = EMAILS[20:22]
    leaving_by_mail = EMAILS[17:19]
    inbound = Inbound(engine, settings, clock=lambda: now)
    mailed = (CORPUS / "mailto_unsubscribe.eml").read_text()
    handler = HoldFirst()
    report: list[SendReport] = []
    with SmtpServer(handler) as server:
        sending = configured(settings, server.port)
        sender = threading.Thread(
            target=lambda: report.append(
                send_issue(engine, sending, issue, now, factory=SimpleFactory(issue.id, now))
            )
        )
        sender.start()
        try:
            assert handler.arrived.wait(30), "the first message never reached the server"
            for address in leaving_by_header + leaving_by_button + leaving_by_mail:
                links = SubscriberLinks(
                    site.settings.app.base_url, signer, ids[address], 1, None, now
                )
                path = site.path_of(links.unsubscribe)
                if address in leaving_by_mail:  # the List-Unsubscribe mailto: a mail back
                    token = path.rsplit("/", 1)[-1]
                    raw = mailed.replace("{token}", token).replace(
                        "reader.one@example.com", address
                    )
                    handled = inbound.handle_message(raw.encode(), via="smtp")
                    assert handled.action == "unsubscribed", handled
                    continue
                if address in leaving_by_header:  # what a mail client's button posts
                    answer = site.client.post(path, data={"List-Unsubscribe": "One-Click"})
                else:  # the page's button, with its CSRF token
                    answer = site.client.post(path, data=site.form_fields(path))
                assert answer.status_code == 200, answer.text
        finally:
            handler.release.set()
            sender.join(60)
    assert not sender.is_alive() and report
    gone = set(leaving_by_header + leaving_by_button + leaving_by_mail)
    assert [a for a in EMAILS if handler.count_for(a)] == [a for a in EMAILS if a not in gone]
    rows = ledger_rows(engine, issue.id)
    for address in gone:
        status, attempts, reply = rows[ids[address]]
        assert (status, attempts) == ("skipped", 0), (address, rows[ids[address]])
        assert reply is not None and "stopped their mail" in reply
    assert report[0].issue.status == "done"


def test_a_claimed_message_waiting_to_leave_is_dropped_when_its_subscriber_leaves(
    engine: Engine, now: datetime
) -> None:
    """The last check, just before the relay: claimed messages whose subscriber has left since."""
    ada, bob = add_subscribers(engine, now, ["ada@example.org", "bob@example.org"])
    recheck = StatusRecheck(engine, interval=0.0)
    recheck.claimed([ada, bob])
    with transaction(engine) as connection:
        person = store.get(connection, bob)
        unsubscribe(connection, person, now, via="one-click", ip=None, user_agent=None)

    async def ask() -> tuple[bool, bool]:
        return await recheck.still_wanted(ada), await recheck.still_wanted(bob)

    assert asyncio.run(ask()) == (True, False)
    assert recheck.waiting == set()
