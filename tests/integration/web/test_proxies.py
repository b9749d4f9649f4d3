"""X-Forwarded-For is believed only from [web] trusted_proxies, through the real uvicorn server
that `digest serve` runs (issue 15), and `smtp-sink --maildir` on an existing empty folder."""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from digest.sending.sink import SinkHandler, SmtpServer
from digest.sending.transports.recording import RecordingTransport
from digest.web.server import make_server
from papercore.config import Settings
from tests.web_site import Clock, hidden_fields


@contextmanager
def served(settings: Settings, engine: Engine, now: datetime) -> Iterator[str]:
    server = make_server(
        settings,
        engine,
        host="127.0.0.1",
        port=0,
        dev=True,
        clock=Clock(now),
        transport=RecordingTransport(),
        own_signals=False,
        own_logging=False,
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        thread.join(10)


def signups(base: str, forwarded_for: list[str]) -> list[int]:
    """One signup per spoofed X-Forwarded-For value, each from a fresh browser."""
    codes = []
    for k, spoofed in enumerate(forwarded_for):
        with httpx.Client(base_url=base, timeout=20) as browser:
            fields = hidden_fields(browser.get("/").text)
            data = fields | {
                "email": f"p{k}@example.org",
                "topics": "graphs",
                "frequency": "daily",
                "weekday": "0",
                "hour": "7",
                "timezone": "UTC",
                "website": "",
            }
            sent = browser.post("/", data=data, headers={"X-Forwarded-For": spoofed})
            codes.append(200 if sent.status_code == 303 else sent.status_code)  # PRG: accepted
    return codes


@pytest.fixture
def budget(settings: Settings) -> Settings:
    settings.web.signup_per_ip_per_hour = 3
    settings.web.signup_min_seconds = 0
    return settings


def test_a_spoofed_header_from_loopback_does_not_buy_more_signups(
    budget: Settings, engine: Engine, now: datetime
) -> None:
    with served(budget, engine, now) as base:
        codes = signups(base, [f"203.0.113.{k}" for k in range(5)])
    assert codes == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    budget: Settings, engine: Engine, now: datetime
) -> None:
    budget.web.trusted_proxies = ["127.0.0.1"]
    with served(budget, engine, now) as base:
        codes = signups(base, [f"203.0.113.{k}" for k in range(5)])
        same = signups(base, ["198.51.100.7"] * 4)
    assert codes == [200] * 5
    assert same == [200, 200, 200, 429]


def test_smtp_sink_keeps_mail_in_an_existing_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "maildir"
    folder.mkdir()  # exists, but has no cur/new/tmp yet
    with SmtpServer(SinkHandler(maildir=folder, keep=False)) as server:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "hi"
        message.set_content("hello")
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.send_message(message)  # raised SMTPDataError (500) before the fix
    assert len(list((folder / "new").iterdir())) == 1
