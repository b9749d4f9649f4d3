"""A real ``digest send`` stopped with SIGTERM mid-run: the messages in flight finish, nothing is
left with an unknown outcome, the issue is paused saying why, and ``--resume`` sends the rest, so
every subscriber has exactly one message at the sink."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from digest.issues import latest_issue
from digest.sending import ledger
from digest.sending.results import SHUTDOWN
from digest.sending.sink import SmtpServer
from papercore.db.engine import transaction
from subscribers import store
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli
from tests.e2e.test_send_crash import TOPICS, SlowSink

pytestmark = pytest.mark.slow

SUBSCRIBERS = 120


def test_sigterm_stops_a_send_cleanly_and_resume_finishes_it(cli: Cli, engine: Engine) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        for i in range(SUBSCRIBERS):
            store.add(
                connection,
                f"reader{i:03}@example.org",
                now,
                topics=[TOPICS[i % len(TOPICS)]],
                status="active",
            )
    handler = SlowSink()
    with SmtpServer(handler) as server:
        env = cli.env | {
            "DIGEST_SMTP__PORT": str(server.port),
            "DIGEST_SMTP__POOL_SIZE": "2",
            "DIGEST_RANKING__SEMANTIC": "off",
        }
        today = now.date().isoformat()
        process = subprocess.Popen(
            [DIGEST, "send", "--dev", "--date", today],
            cwd=cli.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while len(handler.received) < SUBSCRIBERS // 3 and process.poll() is None:
            assert time.monotonic() < deadline, "the send never got going"
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode != 0 and SHUTDOWN in stderr
        with engine.connect() as connection:
            issue = latest_issue(connection)
            assert issue is not None
            assert issue.status == "paused" and issue.pause_reason == SHUTDOWN
            found = ledger.counts(connection, issue.id)
        assert found["sending"] == found["unknown"] == 0
        assert 0 < found["sent"] < SUBSCRIBERS and found["sent"] == len(handler.received)
        cli("send", "--dev", "--date", today, "--resume", env=env)

    with engine.connect() as connection:
        issue = latest_issue(connection)
        assert issue is not None and issue.status == "done"
        rows = ledger.list_deliveries(connection, issue.id)
    assert {r.status for r in rows} == {"sent"} and len(rows) == SUBSCRIBERS
    counted = Counter(rcpt for m in handler.received for rcpt in m.recipients)
    assert all(counted[r.email] == 1 for r in rows)
