"""The first digest comes as promised (issue 23), told through the real `digest` process with its
clock moved by libfaketime: papers are collected at 12:00 UTC, a Los Angeles reader subscribes
for 08:00 local at 12:05, and the 18:50 catch-up pass sends them their first digest, the very
one `digest preview --subscriber` showed; `digest status --subscriber` said so beforehand."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.schema import deliveries, subscribers
from tests.conftest import SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow

FAKETIME_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
READER = "angeleno@example.org"


def at(moment: str) -> dict[str, str]:
    """The environment that starts a process's clock at ``moment`` (UTC) and lets it run."""
    if not FAKETIME_LIBRARY.exists():
        pytest.fail("libfaketime is missing: `apt-get install faketime` (scripts/test does)")
    return {"LD_PRELOAD": str(FAKETIME_LIBRARY), "FAKETIME": f"@{moment}", "TZ": "UTC"}


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        yield handler, server.port


def service_env(port: int) -> dict[str, str]:
    return {
        "DIGEST_SMTP__PORT": str(port),
        "DIGEST_SOURCES__PAGES": json.dumps([str(p) for p in SAMPLE_PAGES]),
    }


def plain_text(data: bytes) -> str:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(part.get_content().split())


def test_a_reader_who_joins_after_the_collect_gets_the_previewed_first_digest_at_catch_up(
    cli: Cli, engine: Engine, sink: tuple[SinkHandler, int]
) -> None:
    handler, port = sink
    env = service_env(port)
    cli("run", "--once", "--dev", env=env | at("2026-12-07 12:00:00"))  # the day's collect
    assert handler.received == []  # nobody to mail yet
    cli(
        "subscribe",
        READER,
        "--confirmed",
        "--timezone",
        "America/Los_Angeles",
        "--hour",
        "8",
        "--topic",
        "neural networks",
        env=at("2026-12-07 12:05:00"),
    )
    catch_up = at("2026-12-07 18:50:00")  # 10:50 in Los Angeles: the 08:00 slot is due

    told = cli("status", "--subscriber", READER, env=catch_up).stdout
    assert "first digest (by email): issue 2026-12-07/daily, due now" in told
    count = int(re.search(r"would hold (\d+) papers?", told).group(1))  # type: ignore[union-attr]
    assert count >= 1 and "skipped" not in told

    shown = cli("preview", "--subscriber", READER, env=catch_up).stdout
    titles = re.findall(r"^\s+\d+\. (.+)$", shown, flags=re.MULTILINE)
    assert len(titles) == count
    assert told.split("would hold", 1)[1].count(titles[0][:30]) == 1  # the same top paper

    ran = cli("run", "--once", "--dev", "--log-json", env=env | catch_up)
    assert "deliver.skipped" not in ran.stderr, ran.stderr
    assert [r.recipients for r in handler.received] == [(READER,)]
    text = plain_text(handler.received[0].data)
    where = [text.find(" ".join(title.split())) for title in titles]
    assert -1 not in where, (titles, text)
    assert where == sorted(where)  # the preview's papers, in the preview's order
    with engine.connect() as connection:
        row = connection.execute(
            select(deliveries.c.status, deliveries.c.paper_ids).join(
                subscribers, subscribers.c.id == deliveries.c.subscriber_id
            )
        ).one()
    assert row.status == "sent" and len(row.paper_ids) == len(titles)

    # Afterwards the promise moves on: no "first" digest any more, the next is tomorrow's.
    after = cli("status", "--subscriber", READER, env=catch_up).stdout
    assert "next digest (by email): issue 2026-12-08/daily, 2026-12-08 16:00 UTC" in after
