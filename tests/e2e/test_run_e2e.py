"""`digest run` as a real process against a real SMTP sink with a fast schedule: digests arrive,
SIGTERM stops it cleanly, and the ledger agrees with what the sink received."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.schema import deliveries, subscribers
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        yield handler, server.port


def wait_for(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def run_env(cli: Cli, port: int) -> dict[str, str]:
    return cli.env | {
        "DIGEST_SMTP__PORT": str(port),
        "DIGEST_SOURCES__PAGES": json.dumps([str(p) for p in SAMPLE_PAGES]),
        "DIGEST_SCHEDULE__DELIVER_EVERY_SECONDS": "1",
        "DIGEST_RANKING__SEMANTIC": "off",
    }


def joined_long_ago(engine: Engine) -> None:
    """Subscribers confirmed two days ago are due now, whatever their hour."""
    with engine.begin() as connection:
        connection.execute(
            subscribers.update().values(confirmed_at=datetime.now(UTC) - timedelta(days=2))
        )


def test_digests_arrive_and_sigterm_leaves_ledger_and_sink_in_agreement(
    cli: Cli, engine: Engine, sink: tuple[SinkHandler, int]
) -> None:
    handler, port = sink
    people = {
        "kiwi@example.org": "Pacific/Auckland",
        "angeleno@example.org": "America/Los_Angeles",
        "mumbai@example.org": "Asia/Kolkata",
    }
    for email, zone in people.items():
        cli("subscribe", email, "--confirmed", "--timezone", zone, "--topic", "neural networks")
    joined_long_ago(engine)
    log = cli.workdir / "run.log"
    process = subprocess.Popen(
        [DIGEST, "run", "--dev", "--log-json"],
        cwd=cli.workdir,
        env=run_env(cli, port),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),  # a file, not a pipe nobody drains while we wait
    )
    try:
        wait_for(lambda: len(handler.received) >= 3, "the first three digests")
        # A subscriber who joins while the service runs is mailed by a later pass.
        cli("subscribe", "late@example.org", "--confirmed", "--topic", "language models")
        joined_long_ago(engine)
        wait_for(lambda: len(handler.received) >= 4, "the late subscriber's digest")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = log.read_text(encoding="utf-8")
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    names = [line["event"] for line in lines]
    assert "service.started" in names and names[-1] == "service.stopped"
    assert any(n == "service.stopping" for n in names)
    assert all({"ts", "level", "event"} <= set(line) for line in lines)

    received = {r.recipients[0]: r for r in handler.received}
    assert len(handler.received) == 4 == len(received)  # one each, nobody twice
    with engine.connect() as connection:
        rows = connection.execute(
            select(subscribers.c.email, deliveries.c.status, deliveries.c.message_id).join(
                deliveries, deliveries.c.subscriber_id == subscribers.c.id
            )
        ).all()
    assert {r.email: r.status for r in rows} == dict.fromkeys(received, "sent")
    assert {r.email: r.message_id for r in rows} == {
        email: r.message_id for email, r in received.items()
    }
    assert set(received) == {*people, "late@example.org"}

    # A restart right away sends nothing more: everyone has had today's issue.
    again = subprocess.run(
        [DIGEST, "run", "--dev", "--once"],
        cwd=cli.workdir,
        env=run_env(cli, port),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert len(handler.received) == 4


def test_start_up_fails_in_one_line_when_the_smtp_relay_is_down(cli: Cli) -> None:
    result = cli("run", "--dev", env={"DIGEST_SMTP__PORT": "1"}, check=False)
    assert result.returncode == 7
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the SMTP relay 127.0.0.1:1 is")
    assert "Traceback" not in result.stderr


def test_start_up_fails_in_one_line_when_the_database_is_unreachable(cli: Cli) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    result = cli("run", "--dev", "--once", env={"DIGEST_DATABASE__URL": url}, check=False)
    assert result.returncode == 5
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is unreachable" in lines[0]


def test_run_with_web_serves_the_signup_page_and_stops_on_sigterm(
    cli: Cli, sink: tuple[SinkHandler, int]
) -> None:
    import socket

    import httpx

    _, port = sink
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        web_port = probe.getsockname()[1]
    log = cli.workdir / "run-web.log"
    process = subprocess.Popen(
        [DIGEST, "run", "--dev", "--with-web"],
        cwd=cli.workdir,
        env=run_env(cli, port) | {"DIGEST_WEB__PORT": str(web_port)},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )

    def signup_page() -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{web_port}/", timeout=2)
        except httpx.TransportError:
            return False
        return response.status_code == 200 and "Subscribe" in response.text

    try:
        wait_for(signup_page, "the signup page of digest run --with-web")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text(encoding="utf-8")
