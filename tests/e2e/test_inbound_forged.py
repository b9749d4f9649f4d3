"""Forged reports mailed to a real ``digest inbound`` change nobody (issue 22, item 1): after a
real ``digest send`` with VERP, five reports that anyone could write are kept for the operator
(``digest inbound --kept``) and suppress or unsubscribe no one; a genuine VERP bounce and a
genuine ARF that quotes our keyed Message-ID still act."""

from __future__ import annotations

import hashlib
import smtplib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.issues import latest_issue
from digest.sending.sink import Received, SinkHandler, SmtpServer
from papercore.db.engine import transaction
from subscribers import store
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli
from tests.integration.sending.faults import free_port

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parents[1] / "fixtures" / "inbound"
BOUNCES = "bounces@digest.example.org"
ENV = {
    "DIGEST_SENDER__VERP_ADDRESS": BOUNCES,
    # settings a real send accepts (no example domains, https links); mail stays local
    "DIGEST_APP__BASE_URL": "https://digest.lab.internal",
    "DIGEST_SENDER__FROM_ADDRESS": "digest@lab.internal",
    "DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "unsubscribe@lab.internal",
}
# one victim per forged form, two readers for the genuine reports
VICTIMS = ["final.only@example.org", "guessed.id@example.org", "rcpt.to@example.org"]
VICTIMS += ["bogus.token@example.org"]
PENDING = "never.mailed@example.org"
GONE, ANNOYED = "gone@example.org", "annoyed@example.org"
# the placeholders in the corpus messages
DSN_VERP = "bounces+7-42-aaaaaaaaaaaaaaaa@digest.example.org"
DSN_RECIPIENT = "nobody.here@example.com"
DSN_ID = "<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>"
ARF_VERP = "bounces+7-47-ffffffffffffffff@digest.example.org"
ARF_RECIPIENT = "annoyed.reader@example.net"
ARF_ID = "<6f708192a3b4c5d6e7f8091223344556@digest.example.org>"


def _eml(name: str, replacements: dict[str, str]) -> bytes:
    text = (CORPUS / name).read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text.replace("\n", "\r\n").encode()


def _dsn(recipient: str, envelope: str, message_id: str) -> bytes:
    return _eml(
        "postfix_hard.eml", {DSN_VERP: envelope, DSN_RECIPIENT: recipient, DSN_ID: message_id}
    )


def _arf(recipient: str, envelope: str, message_id: str) -> bytes:
    return _eml(
        "arf_complaint.eml", {ARF_VERP: envelope, ARF_RECIPIENT: recipient, ARF_ID: message_id}
    )


def _deliver(port: int, rcpt: str, message: bytes) -> str:
    """Mail one report to the listener as an MTA would; the listener's reply to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as mta:
        assert mta.ehlo()[0] == 250
        assert mta.mail("")[0] == 250
        assert mta.rcpt(rcpt)[0] == 250
        code, reply = mta.data(message)
    assert code == 250, reply
    return reply.decode()


def _state(engine: Engine, email: str) -> tuple[str, bool]:
    with engine.connect() as connection:
        return store.get_by_email(connection, email).status, store.is_suppressed(connection, email)


def test_forged_reports_are_kept_and_genuine_ones_act(cli: Cli, engine: Engine) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        for email in [*VICTIMS, GONE, ANNOYED]:
            store.add(connection, email, now, topics=["language models"], status="active")
        store.add(connection, PENDING, now, topics=["language models"], status="pending")
    relay = SinkHandler()
    with SmtpServer(relay) as server:
        sent = cli(
            "send",
            "--date",
            now.date().isoformat(),
            env=ENV | {"DIGEST_SMTP__PORT": str(server.port)},
            check=False,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
    mail: dict[str, Received] = {m.recipients[0]: m for m in relay.received}
    assert sorted(mail) == sorted([*VICTIMS, GONE, ANNOYED])  # the pending address got none
    with engine.connect() as connection:
        issue = latest_issue(connection)
        assert issue is not None
        ids = {e: store.get_by_email(connection, e).id for e in mail}
    # what anyone could compute before Message-IDs were keyed
    unkeyed = hashlib.sha256(f"digest:{issue.id}:{ids[VICTIMS[1]]}".encode()).hexdigest()[:32]
    real_token = mail[VICTIMS[3]].sender  # bounces+<issue>-<subscriber>-<mac>@...
    bogus_envelope = real_token.rpartition("-")[0] + "-aaaaaaaaaaaaaaaa@digest.example.org"
    assert bogus_envelope != real_token
    forged = [
        # 1. a DSN naming the address in Final-Recipient, no VERP token
        (BOUNCES, _dsn(VICTIMS[0], BOUNCES, "<forged.1@lab.internal>")),
        # 2. a DSN for nobody of ours that quotes the unkeyed Message-ID of the victim's digest
        (BOUNCES, _dsn("someone@else.example", BOUNCES, f"<{unkeyed}@lab.internal>")),
        # 3. an ARF with Original-Rcpt-To only
        ("abuse@digest.example.org", _arf(VICTIMS[2], BOUNCES, "<forged.3@lab.internal>")),
        # 4. a DSN to bounces+<bogus token>@ (the victim's ids, a made-up MAC)
        (bogus_envelope, _dsn(VICTIMS[3], bogus_envelope, "<forged.4@lab.internal>")),
        # 5. an ARF for a pending address that was never mailed
        ("abuse@digest.example.org", _arf(PENDING, BOUNCES, "<forged.5@lab.internal>")),
    ]
    port = free_port()
    listener = subprocess.Popen(
        [DIGEST, "inbound", "--port", str(port)],
        cwd=cli.workdir,
        env=cli.env | ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert listener.stdout is not None
        line = listener.stdout.readline()
        assert f"listening on 127.0.0.1:{port}" in line, line
        replies = [_deliver(port, rcpt, message) for rcpt, message in forged]
        assert all(reply.endswith(" kept") for reply in replies), replies
        for victim in VICTIMS:
            assert _state(engine, victim) == ("active", False), victim
        assert _state(engine, PENDING) == ("pending", False)

        # the genuine ones: a bounce to the VERP address of GONE's delivery; an ARF that
        # names no VERP address but quotes the keyed Message-ID of ANNOYED's digest
        genuine_bounce = _dsn(GONE, mail[GONE].sender, "<not.quoted@lab.internal>")
        assert _deliver(port, mail[GONE].sender, genuine_bounce).endswith("hard_bounce suppressed")
        genuine_arf = _arf(ANNOYED, BOUNCES, mail[ANNOYED].message_id)
        assert _deliver(port, "abuse@digest.example.org", genuine_arf).endswith(
            "complaint unsubscribed"
        )
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    assert _state(engine, GONE) == ("bounced", True)
    assert _state(engine, ANNOYED) == ("unsubscribed", True)

    kept = cli("inbound", "--kept", env=ENV)
    assert "5 messages kept for the operator" in kept.stdout
    for victim in (VICTIMS[0], VICTIMS[2], VICTIMS[3], PENDING):
        assert victim in kept.stdout
