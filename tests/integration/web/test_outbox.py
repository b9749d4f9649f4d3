"""Notice mails go through the outbox: queued when the page's change is saved, sent to a real
SMTP server, retried with a growing wait while the relay is away, and shown on /operator."""

from __future__ import annotations

import asyncio
import base64
import socket
from datetime import datetime

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from digest.sending import outbox
from digest.sending.notice_mail import NoticeMailer
from digest.sending.outbox_sender import drain_outbox
from digest.sending.sink import SinkHandler, SmtpServer
from digest.sending.transports.smtp import SmtpTransport
from digest.web import create_app
from papercore.config import Settings
from tests.web_site import Clock, hidden_fields

RIGHT = "Basic " + base64.b64encode(b"operator:op-secret").decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sign_up(client: TestClient, clock: Clock, email: str) -> int:
    fields = hidden_fields(client.get("/").text)
    clock.advance(10)
    data = fields | {
        "email": email,
        "topics": "graphs",
        "frequency": "daily",
        "weekday": "0",
        "hour": "7",
        "timezone": "UTC",
        "website": "",
    }
    return client.post("/", data=data).status_code


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return outbox.counts(connection)


@pytest.fixture
def relay_port(settings: Settings) -> int:
    settings.smtp.port = free_port()
    settings.smtp.timeout = 5
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    settings.web.outbox_retry_seconds = 60
    settings.web.outbox_max_attempts = 3
    return settings.smtp.port


def test_a_notice_waits_in_the_outbox_while_the_relay_is_away_and_is_sent_later(
    settings: Settings, engine: Engine, now: datetime, relay_port: int
) -> None:
    clock = Clock(now)
    mailer = NoticeMailer(settings, SmtpTransport(settings.smtp), clock=clock)
    app = create_app(settings, engine, mailer, clock=clock)
    client = TestClient(app)
    assert sign_up(client, clock, "ada@example.org") == 200  # nobody listens on the relay port
    assert statuses(engine)["pending"] == 1
    dashboard = client.get("/operator", headers={"Authorization": RIGHT})
    assert "Notice mails" in dashboard.text and "ada@example.org" in dashboard.text
    assert "waiting to be sent" in dashboard.text

    handler = SinkHandler(keep=True)
    with SmtpServer(handler, port=relay_port):

        async def later() -> tuple[int, int]:
            # not due yet: the first retry waits 60 s
            early = await drain_outbox(engine, mailer, settings, clock)
            clock.advance(61)
            sent = await drain_outbox(engine, mailer, settings, clock)
            await mailer.close()
            return early, sent

        assert asyncio.run(later()) == (0, 1)
    assert [m.recipients for m in handler.received] == [("ada@example.org",)]
    assert b"confirm" in handler.received[0].data.lower()
    assert statuses(engine) == {"pending": 0, "sent": 1, "failed": 0}


def test_a_notice_is_given_up_after_the_last_try_and_the_operator_sees_why(
    settings: Settings, engine: Engine, now: datetime, relay_port: int
) -> None:
    clock = Clock(now)
    mailer = NoticeMailer(settings, SmtpTransport(settings.smtp), clock=clock)
    app = create_app(settings, engine, mailer, clock=clock)
    client = TestClient(app)
    sign_up(client, clock, "bob@example.org")  # try 1 (after the page)

    async def retries() -> None:
        for wait in (61, 121):  # tries 2 and 3, each after a doubled wait
            clock.advance(wait)
            await drain_outbox(engine, mailer, settings, clock)

    asyncio.run(retries())
    assert statuses(engine)["failed"] == 1
    page = client.get("/operator", headers={"Authorization": RIGHT})
    assert "bob@example.org" in page.text and "failed" in page.text
