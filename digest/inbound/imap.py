"""The IMAP poller (``digest inbound --imap``): reads a hosted mailbox that receives the bounce
and unsubscribe addresses, processes each message, then moves it to
``inbound.imap_processed_folder``. A message is moved only after its processing committed, and
processing the same message again changes nothing, so a crash between the two neither loses a
message nor acts on it twice. Waits for new mail with IMAP IDLE when offered, else polls."""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from digest.inbound.process import Handled, Inbound
from papercore.config import Settings
from papercore.errors import ConfigError, DigestError, SourceUnavailable

log = logging.getLogger("digest.inbound")


@dataclass(frozen=True, slots=True)
class MailboxUrl:
    """Where the mailbox is: ``imaps://user:password@host:993/INBOX`` (or ``imap://``)."""

    secure: bool
    host: str
    port: int
    username: str
    password: str
    folder: str


def parse_mailbox_url(url: str) -> MailboxUrl:
    """The parts of an IMAP URL; raises ConfigError naming inbound.imap_url when it is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ConfigError(["inbound.imap_url: expected imaps://user:password@host:993/INBOX"])
    if not parts.username or parts.password is None:
        raise ConfigError(["inbound.imap_url: the URL needs a user and a password"])
    secure = parts.scheme == "imaps"
    try:
        port = parts.port or (993 if secure else 143)
    except ValueError as exc:
        raise ConfigError(["inbound.imap_url: the port is not a number"]) from exc
    return MailboxUrl(
        secure,
        parts.hostname,
        port,
        unquote(parts.username),
        unquote(parts.password),
        unquote(parts.path.lstrip("/")) or "INBOX",
    )


class ImapPoller:
    """Processes a mailbox's messages and files them away."""

    def __init__(
        self,
        inbound: Inbound,
        settings: Settings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        on_handled: Callable[[Handled], None] | None = None,
    ) -> None:
        self.inbound = inbound
        self.mailbox = parse_mailbox_url(settings.inbound.imap_url.get_secret_value())
        self.processed = settings.inbound.imap_processed_folder
        self.idle = settings.inbound.imap_idle
        self.poll_seconds = settings.inbound.imap_poll_seconds
        self.ssl_context = ssl_context
        self.on_handled = on_handled

    def connect(self) -> IMAPClient:
        """A logged-in client with the folder selected and the processed folder present."""
        box = self.mailbox
        try:
            client = IMAPClient(
                box.host, port=box.port, ssl=box.secure, ssl_context=self.ssl_context, timeout=60
            )
            client.login(box.username, box.password)
            if not client.folder_exists(self.processed):
                client.create_folder(self.processed)
            client.select_folder(box.folder)
        except (IMAPClientError, OSError) as exc:
            raise SourceUnavailable(f"IMAP {box.host}:{box.port}: {_reason(exc)}") from exc
        return client

    def run_once(self) -> list[Handled]:
        """Connect, process what is in the folder now, and log out (``digest inbound --once``)."""
        client = self.connect()
        try:
            return self.poll_once(client)
        finally:
            _logout(client)

    def poll_once(self, client: IMAPClient) -> list[Handled]:
        """Process every message now in the folder and move each to the processed folder."""
        done: list[Handled] = []
        try:
            uids = client.search(["NOT", "DELETED"])
            for uid in uids:
                fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
                raw = fetched.get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue
                handled = self._handle(raw)
                self._file_away(client, uid)
                if handled is None:
                    continue
                done.append(handled)
                if self.on_handled is not None:
                    self.on_handled(handled)
        except (IMAPClientError, OSError) as exc:
            raise SourceUnavailable(f"IMAP {self.mailbox.host}: {_reason(exc)}") from exc
        return done

    def _handle(self, raw: bytes) -> Handled | None:
        """One message processed on its own: a database problem stops the round (the message
        stays, to be read again), anything else is logged and the message is filed away, so
        one message can never stop the poller."""
        try:
            return self.inbound.handle_message(raw, (), via="imap")
        except DigestError:
            raise
        except Exception:
            log.exception("inbound IMAP message not processed; filed away as it is")
            return None

    def _file_away(self, client: IMAPClient, uid: int) -> None:
        if client.has_capability("MOVE"):
            client.move([uid], self.processed)
            return
        client.copy([uid], self.processed)
        client.delete_messages([uid])
        client.uid_expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()

    def run(self, stop: threading.Event) -> None:
        """Process the mailbox until ``stop`` is set: IDLE or poll between rounds; after a
        database or connection problem, wait a round and start over (nothing is moved then)."""
        while not stop.is_set():
            try:
                client = self.connect()
                try:
                    while not stop.is_set():
                        self.poll_once(client)
                        self._wait(client, stop)
                finally:
                    _logout(client)
            except DigestError as exc:
                log.error("inbound IMAP round failed: %s", exc.one_line())
                stop.wait(self.poll_seconds)
            except Exception:  # a bug in one round must not end the poller
                log.exception("inbound IMAP round failed")
                stop.wait(self.poll_seconds)

    def _wait(self, client: IMAPClient, stop: threading.Event) -> None:
        if not (self.idle and client.has_capability("IDLE")):
            stop.wait(self.poll_seconds)
            return
        try:
            self._idle(client, stop)
        except (IMAPClientError, OSError) as exc:  # the server went away while we waited
            raise SourceUnavailable(f"IMAP {self.mailbox.host}: {_reason(exc)}") from exc

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        client.idle()
        try:
            waited = 0.0
            while not stop.is_set() and waited < self.poll_seconds:
                if client.idle_check(timeout=1):
                    break
                waited += 1
        finally:
            client.idle_done()


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(IMAPClientError, OSError):
        client.logout()


def _reason(exc: Exception) -> str:
    """The server's words without Python's bytes quoting (imapclient raises with bytes)."""
    words = exc.args[0] if len(exc.args) == 1 else exc
    if isinstance(words, bytes):
        return words.decode("utf-8", "replace")
    return str(words) or type(exc).__name__
