"""``digest inbound --lmtp``: the listener an MTA hands mail to over LMTP (Postfix's
``lmtp:inet:host:port`` transport), driven with smtplib.LMTP as such an MTA would: LHLO, one
reply per recipient after DATA, and the effects in the database; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import smtplib
import subprocess
from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.inbound import store as inbound_store
from tests.conftest import DIGEST, Cli
from tests.integration.inbound.support import (
    CORPUS,
    delivery_status,
    message_id,
    sent_digest,
    subscriber_status,
)
from tests.integration.sending.faults import free_port

pytestmark = pytest.mark.slow

ANNOYED = "annoyed.reader@example.net"
GONE = "nobody.here@example.com"


def _fixture(name: str, quoted_id: str, our_id: str) -> bytes:
    text = (CORPUS / name).read_text().replace(quoted_id, our_id)
    return text.replace("\n", "\r\n").encode()


def _start(cli: Cli, *args: str) -> tuple[subprocess.Popen[str], str]:
    listener = subprocess.Popen(
        [DIGEST, "inbound", *args],
        cwd=cli.workdir,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert listener.stdout is not None
    first = listener.stdout.readline()
    if not first and listener.stderr is not None:
        first = listener.stderr.read()
    return listener, first


def _stop(listener: subprocess.Popen[str]) -> tuple[int, str]:
    listener.send_signal(signal.SIGTERM)
    try:
        out, _ = listener.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        listener.kill()
        raise
    return listener.returncode, out


def test_an_mta_delivers_a_complaint_and_a_bounce_over_lmtp(
    cli: Cli, engine: Engine, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, [ANNOYED, GONE, "fine@example.org"])
    complaint = _fixture(
        "arf_complaint.eml",
        "<6f708192a3b4c5d6e7f8091223344556@digest.example.org>",
        message_id(issue, ids[ANNOYED]),
    )
    bounce = _fixture(
        "postfix_hard.eml",
        "<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>",
        message_id(issue, ids[GONE]),
    )
    port = free_port()
    listener, first = _start(cli, "--lmtp", "--port", str(port))
    try:
        assert f"inbound LMTP listening on 127.0.0.1:{port}" in first, first
        with smtplib.LMTP("127.0.0.1", port, timeout=30) as mta:
            code, _ = mta.ehlo()  # smtplib.LMTP says LHLO
            assert code == 250
            assert mta.mail("")[0] == 250
            # the report reached two local addresses: one reply for each, in order
            assert mta.rcpt("abuse@digest.example.org")[0] == 250
            assert mta.rcpt("postmaster@digest.example.org")[0] == 250
            replies = [mta.data(complaint), mta.getreply()]
            assert [code for code, _ in replies] == [250, 250]
            assert all(b"complaint unsubscribed" in text for _, text in replies)
            assert mta.noop()[0] == 250  # the conversation is still in step

            refused = mta.sendmail("", ["bounces@digest.example.org"], bounce)
            assert refused == {}
            again = mta.sendmail("", ["bounces@digest.example.org"], bounce)
            assert again == {}  # the MTA retried: accepted, and nothing happens twice
    finally:
        code, out = _stop(listener)

    assert code == 0
    assert f"complaint → unsubscribed {ANNOYED}" in out
    assert f"hard_bounce → suppressed {GONE}" in out
    assert "hard_bounce → duplicate" in out
    assert subscriber_status(engine, ANNOYED) == ("unsubscribed", True)
    assert delivery_status(engine, issue, ANNOYED) == "complained"
    assert subscriber_status(engine, GONE) == ("bounced", True)
    assert delivery_status(engine, issue, GONE) == "bounced"
    assert subscriber_status(engine, "fine@example.org") == ("active", False)


def test_the_lmtp_listener_refuses_smtp_greetings_and_stops_on_sigterm(
    cli: Cli, engine: Engine
) -> None:
    port = free_port()
    listener, first = _start(cli, "--lmtp", "--port", str(port))
    try:
        assert "LMTP listening" in first, first
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            code, _ = smtp.ehlo()
            assert code == 500  # an MTA configured for SMTP by mistake learns it at once
    finally:
        code, _ = _stop(listener)
    assert code == 0
    with engine.connect() as connection:
        assert inbound_store.kept_count(connection) == 0
