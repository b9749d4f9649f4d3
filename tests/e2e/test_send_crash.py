"""A real ``digest send`` killed with SIGKILL mid-run, then ``digest send --resume``: every
subscriber has exactly one message at the sink, except those the ledger reports as unknown;
every message parses, carries the bulk-sender headers, and its DKIM signature verifies."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import dkim
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from digest.issues import latest_issue
from digest.sending import ledger
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.engine import transaction
from subscribers import store
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow

SUBSCRIBERS = 160
TOPICS = ["language models", "diffusion models", "reinforcement learning", "neural networks"]
REQUIRED = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
    "MIME-Version",
    "DKIM-Signature",
)


class SlowSink(SinkHandler):
    """A sink that takes a few milliseconds per message, so that a run lasts long enough to be
    killed in the middle."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def dkim_key(folder: Path) -> tuple[Path, bytes]:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def test_a_killed_send_resumes_without_losing_or_doubling_a_message(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
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
    key, dns_record = dkim_key(tmp_path)
    handler = SlowSink()
    with SmtpServer(handler) as server:
        env = cli.env | {
            "DIGEST_SMTP__PORT": str(server.port),
            "DIGEST_SMTP__POOL_SIZE": "2",
            "DIGEST_RANKING__SEMANTIC": "off",
            "DIGEST_DKIM__ENABLED": "true",
            "DIGEST_DKIM__KEY_PATH": str(key),
            "DIGEST_DKIM__SELECTOR": "test",
            "DIGEST_DKIM__DOMAIN": "example.org",
            "DIGEST_APP__BASE_URL": "https://digest.example.org",  # one-click needs https
        }
        today = now.date().isoformat()
        process = subprocess.Popen(
            [DIGEST, "send", "--dev", "--date", today],
            cwd=cli.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while len(handler.received) < SUBSCRIBERS // 3 and process.poll() is None:
            assert time.monotonic() < deadline, "the send never got going"
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        before = len(handler.received)
        assert 0 < before < SUBSCRIBERS

        refused = cli("send", "--dev", "--date", today, check=False, env=env)
        assert refused.returncode == 3 and "--resume" in refused.stderr
        resumed = cli("send", "--dev", "--date", today, "--resume", env=env)
        assert "in flight when an earlier run stopped" in resumed.stdout
        listed = cli("deliveries", "--status", "unknown", env=env)

    with engine.connect() as connection:
        issue = latest_issue(connection)
        assert issue is not None and issue.status == "done"
        rows = ledger.list_deliveries(connection, issue.id)
    assert len(rows) == SUBSCRIBERS
    unknown = {r.email for r in rows if r.status == "unknown"}
    assert {r.status for r in rows} <= {"sent", "unknown"}
    assert len(unknown) < SUBSCRIBERS // 2
    for email in unknown:
        assert email in listed.stdout
    counted = Counter(rcpt for m in handler.received for rcpt in m.recipients)
    for row in rows:
        if row.email in unknown:
            assert counted[row.email] <= 1, row.email
        else:
            assert counted[row.email] == 1, row.email

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"test._domainkey.example.org."
        return dns_record

    message_ids = set()
    for received in handler.received:
        parsed = message_from_bytes(received.data)
        for header in REQUIRED:
            assert parsed[header], f"{header} missing"
        assert parsed["To"] == received.recipients[0]
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = str(parsed["List-Unsubscribe"])
        assert "<https://" in unsubscribe or "<http://" in unsubscribe
        assert "<mailto:" in unsubscribe
        assert parsed.get_content_type() == "multipart/alternative"
        parts: list[Message] = parsed.get_payload()  # type: ignore[assignment]
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert all(p.get_payload(decode=True) for p in parts)
        assert not parsed.defects and not any(p.defects for p in parts)
        signature = str(parsed["DKIM-Signature"]).lower()
        assert "list-unsubscribe" in signature and "list-unsubscribe-post" in signature
        assert dkim.verify(received.data, dnsfunc=dns), received.recipients
        message_ids.add(parsed["Message-ID"])
    assert len(message_ids) == len(handler.received)
