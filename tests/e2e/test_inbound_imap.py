"""``digest inbound --imap`` against a real IMAP server (Dovecot, started per test by
tests/integration/inbound/dovecot.py): the poller acts on what is in the mailbox, files every
message it read into the processed folder, never acts on a message twice, and, left running,
picks up new mail (IDLE, or polling) until SIGTERM stops it cleanly."""

from __future__ import annotations

import email
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from imapclient import IMAPClient
from sqlalchemy import Engine

from digest.inbound import store as inbound_store
from subscribers import store
from tests.conftest import DIGEST, Cli
from tests.integration.inbound.dovecot import Dovecot
from tests.integration.inbound.support import (
    CORPUS,
    delivery_status,
    message_id,
    sent_digest,
    subscriber_status,
)

pytestmark = pytest.mark.slow

GONE = "nobody.here@example.com"
AWAY = "away.on.leave@example.com"
ANNOYED = "annoyed.reader@example.net"
PROCESSED = "Processed"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def _bounce(issue: int, subscriber: int) -> bytes:
    return _eml(
        "postfix_hard.eml",
        "<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>",
        message_id(issue, subscriber),
    )


def _complaint(issue: int, subscriber: int) -> bytes:
    return _eml(
        "arf_complaint.eml",
        "<6f708192a3b4c5d6e7f8091223344556@digest.example.org>",
        message_id(issue, subscriber),
    )


def _eml(name: str, old: str = "", new: str = "") -> bytes:
    text = (CORPUS / name).read_text()
    return (text.replace(old, new) if old else text).replace("\n", "\r\n").encode()


def _subjects(client: IMAPClient, folder: str) -> list[str]:
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])
    fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
    found = []
    for data in fetched.values():
        header = data[b"BODY[HEADER.FIELDS (SUBJECT)]"]
        found.append(str(email.message_from_bytes(header)["Subject"]))
    return sorted(found)


def _start_poller(cli: Cli, env: dict[str, str]) -> subprocess.Popen[str]:
    poller = subprocess.Popen(
        [DIGEST, "inbound", "--imap"],
        cwd=cli.workdir,
        env=cli.env | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert poller.stdout is not None
    first = poller.stdout.readline()
    assert "polling 127.0.0.1 folder INBOX" in first, first + _stderr_if_dead(poller)
    return poller


def _stderr_if_dead(process: subprocess.Popen[str]) -> str:
    if process.poll() is None or process.stderr is None:
        return ""
    return process.stderr.read()


def _sigterm(poller: subprocess.Popen[str]) -> tuple[str, str]:
    poller.send_signal(signal.SIGTERM)
    try:
        return poller.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        poller.kill()
        raise


def _suppressed(engine: Engine, address: str) -> Callable[[], bool]:
    def check() -> bool:
        with engine.connect() as connection:
            return store.is_suppressed(connection, address)

    return check


def _wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the poller exited {process.returncode} before {what}")
        time.sleep(0.2)
    raise AssertionError(f"the poller did not get to: {what}")


def test_the_poller_acts_once_and_files_everything_it_read(
    cli: Cli, engine: Engine, now: datetime, dovecot: Dovecot
) -> None:
    issue, ids = sent_digest(engine, now, [GONE, AWAY, "fine@example.org"])
    bounce = _bounce(issue, ids[GONE])
    with dovecot.client() as mailbox:
        mailbox.append("INBOX", bounce)
        mailbox.append("INBOX", _eml("out_of_office.eml"))
        mailbox.append("INBOX", _eml("human_reply.eml"))
    env = {"DIGEST_INBOUND__IMAP_URL": dovecot.url}

    first = cli("inbound", "--imap", "--once", env=env)
    assert "3 messages processed" in first.stdout
    assert f"hard_bounce → suppressed {GONE}" in first.stdout
    assert "auto_reply → ignored" in first.stdout
    assert "unknown → kept" in first.stdout
    assert subscriber_status(engine, GONE) == ("bounced", True)
    assert delivery_status(engine, issue, GONE) == "bounced"
    assert subscriber_status(engine, AWAY) == ("active", False)  # an out-of-office is no bounce
    with dovecot.client() as mailbox:
        assert _subjects(mailbox, "INBOX") == []
        assert _subjects(mailbox, PROCESSED) == [
            "Automatic reply: 2026-11-21: Scaling laws for sparse mixtures",
            "Re: 2026-11-21: Scaling laws for sparse mixtures",
            "Undelivered Mail Returned to Sender",
        ]
    kept = cli("inbound", "--kept")
    assert "1 message kept for the operator" in kept.stdout and "imap" in kept.stdout

    second = cli("inbound", "--imap", "--once", env=env)
    assert "0 messages processed" in second.stdout

    # a crash after acting and before filing leaves the message in INBOX: read again, it is
    # filed, and nothing happens twice
    with dovecot.client() as mailbox:
        mailbox.append("INBOX", bounce)
    third = cli("inbound", "--imap", "--once", env=env)
    assert "1 message processed" in third.stdout and "hard_bounce → duplicate" in third.stdout
    with dovecot.client() as mailbox:
        assert _subjects(mailbox, "INBOX") == []
        assert len(_subjects(mailbox, PROCESSED)) == 4
    with engine.connect() as connection:
        assert inbound_store.kept_count(connection) == 1


def test_a_wrong_password_is_one_clear_line_and_files_nothing(
    cli: Cli, engine: Engine, dovecot: Dovecot
) -> None:
    with dovecot.client() as mailbox:
        mailbox.append("INBOX", _eml("out_of_office.eml"))
    wrong = dovecot.url.replace(":s3cret-Pass@", ":wrong@")
    result = cli(
        "inbound", "--imap", "--once", env={"DIGEST_INBOUND__IMAP_URL": wrong}, check=False
    )
    assert result.returncode != 0
    assert f"IMAP 127.0.0.1:{dovecot.port}" in result.stderr + result.stdout
    assert "wrong" not in result.stderr + result.stdout  # the password is never printed
    with dovecot.client() as mailbox:
        assert len(_subjects(mailbox, "INBOX")) == 1


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "interval"])
def test_the_running_poller_picks_up_new_mail_and_stops_on_sigterm(
    cli: Cli, engine: Engine, now: datetime, dovecot: Dovecot, idle: bool
) -> None:
    issue, ids = sent_digest(engine, now, [GONE, ANNOYED])
    env = {
        "DIGEST_INBOUND__IMAP_URL": dovecot.url,
        "DIGEST_INBOUND__IMAP_IDLE": str(idle).lower(),
        # IDLE: only the server's word can wake the poller within the test
        "DIGEST_INBOUND__IMAP_POLL_SECONDS": "600" if idle else "0.5",
    }
    with dovecot.client() as mailbox:
        mailbox.append("INBOX", _bounce(issue, ids[GONE]))
    poller = _start_poller(cli, env)
    try:
        _wait_for(_suppressed(engine, GONE), "the mail waiting at start", poller)
        # the first round is done: the poller now waits (IDLE or its interval) for new mail
        with dovecot.client() as mailbox:
            mailbox.append("INBOX", _complaint(issue, ids[ANNOYED]))
        _wait_for(_suppressed(engine, ANNOYED), "the mail that arrived while it waited", poller)
    finally:
        out, err = _sigterm(poller)
    assert poller.returncode == 0, err
    assert f"complaint → unsubscribed {ANNOYED}" in out
    assert subscriber_status(engine, ANNOYED) == ("unsubscribed", True)
    assert delivery_status(engine, issue, ANNOYED) == "complained"
    with dovecot.client() as mailbox:
        assert _subjects(mailbox, "INBOX") == []
        assert len(_subjects(mailbox, PROCESSED)) == 2


def test_the_poller_rides_out_a_server_restart(
    cli: Cli, engine: Engine, now: datetime, dovecot: Dovecot
) -> None:
    issue, ids = sent_digest(engine, now, [GONE, ANNOYED])
    env = {"DIGEST_INBOUND__IMAP_URL": dovecot.url, "DIGEST_INBOUND__IMAP_POLL_SECONDS": "1"}
    poller = _start_poller(cli, env)
    try:
        with dovecot.client() as mailbox:
            mailbox.append("INBOX", _bounce(issue, ids[GONE]))
        _wait_for(_suppressed(engine, GONE), "the mail before the restart", poller)
        dovecot.restart()  # the IDLE connection is cut
        with dovecot.client() as mailbox:
            mailbox.append("INBOX", _complaint(issue, ids[ANNOYED]))
        _wait_for(_suppressed(engine, ANNOYED), "the mail after the restart", poller)
    finally:
        out, err = _sigterm(poller)
    assert poller.returncode == 0, err
    assert "inbound IMAP round failed: IMAP 127.0.0.1" in err  # said once per failed round
    assert "Traceback" not in err
    assert f"complaint → unsubscribed {ANNOYED}" in out
