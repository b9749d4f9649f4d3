"""Outside tester's findings on the hardened inbound paths (issue 22, items 1 and 11), each
driven through the real entry point (``digest send``, ``digest inbound`` over SMTP and IMAP,
``digest inbound --kept``):

- an erased subscriber's old VERP address and unsubscribe token must not name whoever gets
  their subscriber id next (SQLite reuses the highest rowid after a delete);
- a report whose headers carry 8-bit text, or whose MIME nests deeply, is kept, not refused
  with a Python exception, and never stops the IMAP poller;
- the kept list never prints a stranger's terminal control characters.
"""

from __future__ import annotations

import email
import re
import smtplib
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from digest.sending.sink import Received, SinkHandler, SmtpServer
from subscribers import store
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli
from tests.integration.inbound.dovecot import Dovecot
from tests.integration.inbound.support import CORPUS
from tests.integration.sending.faults import free_port

pytestmark = pytest.mark.slow

BOUNCES = "bounces@lab.internal"
ENV = {
    "DIGEST_SENDER__VERP_ADDRESS": BOUNCES,
    "DIGEST_APP__BASE_URL": "https://digest.lab.internal",
    "DIGEST_SENDER__FROM_ADDRESS": "digest@lab.internal",
    "DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "unsubscribe@lab.internal",
}
ATTACKER = "mallory@attacker.example.net"
VICTIM = "frank@victim.example.net"


@contextmanager
def _inbound(cli: Cli) -> Iterator[int]:
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
        yield port
    finally:
        listener.terminate()
        listener.wait(timeout=10)


def _deliver(port: int, rcpt: str, message: bytes) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as mta:
        mta.ehlo()
        mta.mail("")
        mta.rcpt(rcpt)
        try:
            code, reply = mta.data(message)
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else error
            return exc.smtp_code, text
    return code, reply.decode()


def _dsn(recipient: str) -> bytes:
    text = f"""From: MAILER-DAEMON@mx.victim.example.net
To: {BOUNCES}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Delivery failed.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.victim.example.net

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b--
"""
    return text.replace("\n", "\r\n").encode("utf-8")


def _nested(depth: int) -> bytes:
    parts = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"From: x@example.net\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + parts + b"x\r\n"


def _state(engine: Engine, address: str) -> tuple[str, bool]:
    with engine.connect() as connection:
        person = store.get_by_email(connection, address)
        return person.status, store.is_suppressed(connection, address)


def _send(cli: Cli, day: str, *extra: str) -> list[Received]:
    relay = SinkHandler()
    with SmtpServer(relay) as server:
        cli("send", "--date", day, *extra, env=ENV | {"DIGEST_SMTP__PORT": str(server.port)})
    return list(relay.received)


def _unsubscribe_token(message: Received) -> str:
    header = str(email.message_from_bytes(message.data).get("List-Unsubscribe", ""))
    found = re.search(r"subject=unsubscribe%20([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", header)
    assert found is not None, header
    return found.group(1)


def test_an_erased_subscribers_old_proofs_do_not_name_the_next_subscriber(
    cli: Cli, engine: Engine
) -> None:
    """Mallory subscribes, receives a digest (its VERP envelope sender and List-Unsubscribe
    token), asks to be erased; Frank subscribes next and gets today's digest. Mallory's old
    VERP address and token must not bounce or unsubscribe Frank."""
    cli("ingest", *map(str, SAMPLE_PAGES))
    day = datetime.now(UTC).date().isoformat()
    cli("subscribe", ATTACKER, "--topic", "language models", "--confirmed")
    [mallorys] = _send(cli, day)
    assert mallorys.recipients == (ATTACKER,)
    old_verp, old_token = mallorys.sender, _unsubscribe_token(mallorys)

    cli("subscribers", "forget", ATTACKER, "--yes")
    cli("subscribe", VICTIM, "--topic", "language models", "--confirmed")
    [franks] = _send(cli, day, "--resume")
    assert franks.recipients == (VICTIM,)

    with _inbound(cli) as port:
        _deliver(port, old_verp, _dsn(VICTIM))
        unsubscribe = (
            f"From: {ATTACKER}\r\nTo: unsubscribe@lab.internal\r\n"
            f"Subject: unsubscribe {old_token}\r\n\r\nbye\r\n"
        ).encode()
        _deliver(port, "unsubscribe@lab.internal", unsubscribe)
    assert _state(engine, VICTIM) == ("active", False)


def test_reports_with_8bit_headers_or_deep_nesting_are_kept_not_refused(cli: Cli) -> None:
    """An internationalised DSN (RFC 6533 allows UTF-8 addresses) and a deeply nested MIME
    message are answered 250 and kept, not refused with a Python exception."""
    with _inbound(cli) as port:
        code, reply = _deliver(port, BOUNCES, _dsn("ålice@victim.example.net"))
        assert code == 250, reply
        code, reply = _deliver(port, BOUNCES, _nested(2000))
        assert code == 250, reply


def test_a_message_the_classifier_trips_on_does_not_stop_the_imap_poller(cli: Cli) -> None:
    with Dovecot() as server:
        with server.client() as mailbox:
            mailbox.append("INBOX", _dsn("ålice@victim.example.net"))
            mailbox.append("INBOX", (CORPUS / "human_reply.eml").read_bytes())
        env = {"DIGEST_INBOUND__IMAP_URL": server.url}
        result = cli("inbound", "--imap", "--once", env=env, check=False)
        assert result.returncode == 0, result.stderr[-500:]
        assert "2 messages processed" in result.stdout
        with server.client() as mailbox:
            mailbox.select_folder("INBOX")
            assert mailbox.search(["NOT", "DELETED"]) == []


def test_the_kept_list_prints_no_terminal_control_characters(cli: Cli) -> None:
    subject = "hello \x1b]0;owned\x07 \x1b[31mred\x1b[0m"
    message = f"From: x@example.net\r\nSubject: {subject}\r\n\r\nhi\r\n".encode()
    with _inbound(cli) as port:
        code, reply = _deliver(port, BOUNCES, message)
        assert code == 250, reply
    kept = cli("inbound", "--kept", env=ENV)
    assert "red" in kept.stdout
    assert "\x1b" not in kept.stdout and "\x07" not in kept.stdout
