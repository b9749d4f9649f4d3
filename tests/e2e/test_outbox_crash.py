"""Issue 15: a notice is saved with the change it tells about, so a `digest serve` killed with
SIGKILL right after answering loses no mail: started again, it sends the confirmation. And the
service that sends digests (`digest run`) drains the same outbox."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime

import httpx

from digest.sending import outbox
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.engine import make_engine, transaction
from tests.conftest import DIGEST, Cli
from tests.web_site import hidden_fields


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(cli: Cli, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [DIGEST, "serve", "--dev", "--host", "127.0.0.1", "--port", "0"],
        cwd=cli.workdir,
        env=cli.env | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "on http://127.0.0.1:" in line, line
    return process, "http://127.0.0.1:" + line.rsplit(":", 1)[1].strip()


def test_a_server_killed_right_after_a_signup_sends_the_confirmation_when_back(
    cli: Cli,
) -> None:
    relay_port = free_port()
    env = {
        "DIGEST_SMTP__HOST": "127.0.0.1",
        "DIGEST_SMTP__PORT": str(relay_port),
        "DIGEST_SMTP__TIMEOUT": "5",
        "DIGEST_WEB__SIGNUP_MIN_SECONDS": "0",
        "DIGEST_WEB__OUTBOX_RETRY_SECONDS": "1",
    }
    # the relay is away while the first server answers: its own drain can send nothing
    process, url = start(cli, env)
    try:
        with httpx.Client(base_url=url, timeout=10) as browser:
            fields = hidden_fields(browser.get("/").text)
            data = fields | {
                "email": "ada@example.org",
                "topics": "graph neural networks",
                "frequency": "daily",
                "weekday": "0",
                "hour": "7",
                "timezone": "UTC",
            }
            answer = browser.post("/", data=data, follow_redirects=True)  # PRG: 303, then the page
        assert answer.status_code == 200 and "Check your inbox" in answer.text
    finally:
        os.kill(process.pid, signal.SIGKILL)  # no shutdown, no last drain
        process.wait(timeout=30)

    handler = SinkHandler(keep=True)
    with SmtpServer(handler, port=relay_port):
        again, _ = start(cli, env)
        try:
            deadline = time.monotonic() + 60
            while not handler.received and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            again.terminate()
            again.wait(timeout=30)
    assert [m.recipients for m in handler.received] == [("ada@example.org",)]
    assert b"Confirm your subscription" in handler.received[0].data


def test_the_scheduler_sends_what_the_pages_queued_with_no_web_server_running(
    cli: Cli, database_url: str
) -> None:
    # a confirmation a page saved just before its server went away for good
    engine = make_engine(database_url)
    with transaction(engine) as connection:
        outbox.enqueue(
            connection,
            "confirm",
            "grace@example.org",
            {"confirm": "https://digest.example.org/confirm/abc"},
            {},
            datetime.now(UTC),
        )
    handler = SinkHandler(keep=True)
    with SmtpServer(handler) as relay:
        env = {"DIGEST_SMTP__HOST": "127.0.0.1", "DIGEST_SMTP__PORT": str(relay.port)}
        cli("run", "--dev", "--once", env=env)  # one collect and one deliver pass
    assert [m.recipients for m in handler.received] == [("grace@example.org",)]
    assert b"Confirm your subscription" in handler.received[0].data
    with engine.connect() as connection:
        assert outbox.counts(connection)["sent"] == 1
    engine.dispose()
