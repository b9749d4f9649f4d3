"""``digest send`` at the default ``sending.processes = "auto"``: it uses one process per core
(never more than the subscribers waiting), says so with the SMTP connections in its summary, and
every subscriber gets exactly one message; a bad value stops it with one line naming where."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from digest.sending.processes import usable_cores
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.engine import transaction
from subscribers import store
from tests.conftest import SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow

TOPICS = ["language models", "diffusion models", "reinforcement learning", "neural networks"]


def _add(engine: Engine, count: int) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        for i in range(count):
            store.add(
                connection,
                f"reader{i:03}@d{i % 3}.example.org",
                now,
                topics=[TOPICS[i % len(TOPICS)]],
                status="active",
            )


@pytest.mark.parametrize("subscribers", [1, 30])
def test_send_uses_the_cores_and_says_how_many(cli: Cli, engine: Engine, subscribers: int) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))
    _add(engine, subscribers)
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        env = {"DIGEST_SMTP__PORT": str(server.port), "DIGEST_SMTP__POOL_SIZE": "3"}
        result = cli("send", "--dev", env=env)
    processes = min(usable_cores(), subscribers)
    plural = "es" if processes > 1 else ""
    assert f"sent by {processes} process{plural} over {3 * processes} SMTP connections" in (
        result.stdout
    )
    counted = Counter(rcpt for message in handler.received for rcpt in message.recipients)
    assert len(counted) == subscribers and set(counted.values()) == {1}


def test_a_bad_process_count_is_one_line_naming_the_variable(cli: Cli) -> None:
    result = cli("send", "--dev", check=False, env={"DIGEST_SENDING__PROCESSES": "many"})
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "sending.processes" in line]
    assert len(errors) == 1
    assert "DIGEST_SENDING__PROCESSES" in errors[0] and '"auto" or a whole number' in errors[0]
