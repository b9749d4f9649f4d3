"""Issue 23, item 11: what the CLI says is true. Counts take their noun's number ("1 message",
never "1 messages"); a send that sent nothing does not claim processes and SMTP connections;
`digest status` does not show a next run time that has passed, left by a stopped service."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.sending.sink import SinkHandler, SmtpServer
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli
from tests.e2e.test_first_digest import at

pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        yield handler, server.port


def test_one_message_is_one_message_and_a_send_of_nothing_claims_no_connections(
    cli: Cli, sink: tuple[SinkHandler, int]
) -> None:
    handler, port = sink
    smtp = {"DIGEST_SMTP__PORT": str(port), "DIGEST_SENDING__PROCESSES": "2"}
    cli("ingest", *[str(p) for p in SAMPLE_PAGES])
    cli("subscribe", "ada@example.org", "--confirmed", "--topic", "neural networks")
    dry = cli("send", "--dry-run", env=smtp).stdout
    assert "1 message would be sent, 0 subscribers skipped; nothing was sent" in dry
    assert "1 messages" not in dry

    cli("send", "--dev", env=smtp)
    assert len(handler.received) == 1
    again = cli("send", "--dev", "--resume", env=smtp).stdout  # nothing is left to send
    assert len(handler.received) == 1
    assert "0 sent" in again
    assert "SMTP connection" not in again and "process" not in again, again
    assert not re.search(r"\b1 [a-z]+s\b", again), again


def test_status_does_not_show_a_next_run_that_passed_while_no_service_runs(
    cli: Cli, sink: tuple[SinkHandler, int]
) -> None:
    log = cli.workdir / "run.log"
    started = at("2026-12-07 12:00:00")
    process = subprocess.Popen(
        [DIGEST, "run", "--dev", "--log-json"],
        cwd=cli.workdir,
        env=cli.env | started | {"DIGEST_SMTP__PORT": str(sink[1])},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        _wait_for_line(log, '"service.started"', process)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    running = cli("status", env=at("2026-12-07 12:00:30")).stdout
    assert "not running" not in running  # while it ran, the times were ahead
    later = cli("status", env=at("2026-12-09 09:00:00")).stdout
    jobs = later.split("Deliveries", 1)[0]
    assert jobs.count("not running: was due 2026-12-07") == 2, jobs
    assert "runs when `digest run` starts" in jobs
    narrow = cli("status", env=at("2026-12-09 09:00:00") | {"COLUMNS": "80"}).stdout
    assert "not running:" in narrow and "…" not in narrow.split("Deliveries", 1)[0]


def _wait_for_line(log: Path, marker: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while marker not in log.read_text(encoding="utf-8"):
        if process.poll() is not None:
            raise AssertionError(log.read_text(encoding="utf-8"))
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {marker}")
        time.sleep(0.1)
