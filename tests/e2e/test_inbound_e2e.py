"""The delivery loop closed: a real ``digest send`` with VERP through an SMTP relay, a DSN for
one recipient mailed to a real ``digest inbound`` listener, and the next ``digest send``
skips the bounced address; ``digest deliveries`` and ``digest status`` show it."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.issues import latest_issue
from digest.sending import ledger
from digest.sending.sink import SinkHandler, SmtpServer
from papercore.db.engine import transaction
from subscribers import store
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parents[1] / "fixtures" / "inbound"
READERS = ["ada@example.org", "nobody.here@example.com", "grace@example.org"]
GONE = "nobody.here@example.com"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dsn_for(envelope_sender: str, message_id: str) -> bytes:
    """Postfix's DSN from the corpus, about our message to GONE sent with this envelope."""
    text = (CORPUS / "postfix_hard.eml").read_text()
    text = text.replace("bounces+7-42-aaaaaaaaaaaaaaaa@digest.example.org", envelope_sender)
    text = text.replace("<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>", message_id)
    return text.replace("\n", "\r\n").encode()


def test_a_bounce_mailed_to_digest_inbound_suppresses_the_address_for_the_next_send(
    cli: Cli, engine: Engine
) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        for email in READERS:
            store.add(connection, email, now, topics=["language models"], status="active")
    relay = SinkHandler()
    port = _free_port()
    with SmtpServer(relay) as server:
        env = {
            "DIGEST_SMTP__PORT": str(server.port),
            "DIGEST_SENDER__VERP_ADDRESS": "bounces@digest.example.org",
            # settings a real send accepts (no example domains, https links); mail stays local
            "DIGEST_APP__BASE_URL": "https://digest.lab.internal",
            "DIGEST_SENDER__FROM_ADDRESS": "digest@lab.internal",
            "DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "unsubscribe@lab.internal",
        }
        today = now.date().isoformat()
        first = cli("send", "--date", today, env=env, check=False)
        assert first.returncode == 0, first.stdout + first.stderr
        to_gone = [m for m in relay.received if GONE in m.recipients]
        assert len(to_gone) == 1
        envelope = to_gone[0].sender
        assert envelope.startswith("bounces+") and envelope.endswith("@digest.example.org")
        assert len({m.sender for m in relay.received}) == len(READERS)  # one per delivery

        listener = subprocess.Popen(
            [DIGEST, "inbound", "--port", str(port)],
            cwd=cli.workdir,
            env=cli.env | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert listener.stdout is not None
            line = listener.stdout.readline()
            assert f"listening on 127.0.0.1:{port}" in line, line + (
                listener.stderr.read() if listener.poll() is not None and listener.stderr else ""
            )
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as mta:
                mta.sendmail("", [envelope], _dsn_for(envelope, to_gone[0].message_id))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    if store.is_suppressed(connection, GONE):
                        break
                time.sleep(0.1)
        finally:
            listener.terminate()
            listener.wait(timeout=10)

        bounced = cli("deliveries", "--status", "bounced", env=env)
        assert GONE in bounced.stdout and "ada@example.org" not in bounced.stdout
        status = cli("status", env=env)
        assert "bounced" in status.stdout and "33.33% / 0.00%" in status.stdout
        assert "bounce rate 33.33%" in status.stdout  # above 2 %: the operator is warned

        relay.received.clear()
        tomorrow = (now + timedelta(days=1)).date().isoformat()
        second = cli("send", "--date", tomorrow, env=env, check=False)
        assert second.returncode == 0, second.stdout + second.stderr
        assert not [m for m in relay.received if GONE in m.recipients]

    with engine.connect() as connection:
        person = store.get_by_email(connection, GONE)
        assert person.status == "bounced" and store.is_suppressed(connection, GONE)
        issue = latest_issue(connection)
        assert issue is not None
        rows = {r.email: r for r in ledger.list_deliveries(connection, issue.id)}
    assert rows[GONE].status == "skipped"
