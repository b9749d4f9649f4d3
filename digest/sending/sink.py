"""A local debugging SMTP server (aiosmtpd) that keeps what it receives in a maildir and prints
one line per message: ``digest smtp-sink``, the demo, and the tests' fault-injecting servers."""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def subject(self) -> str:
        raw = str(BytesHeaderParser().parsebytes(self.data).get("Subject", ""))
        with contextlib.suppress(ValueError, LookupError):
            raw = str(make_header(decode_header(raw)))
        return " ".join(raw.split())

    @property
    def message_id(self) -> str:
        return str(BytesHeaderParser().parsebytes(self.data).get("Message-ID", "")).strip()


@dataclass
class SinkHandler:
    """Accepts every message; stores it (maildir, memory) and reports it to ``on_message``."""

    maildir: Path | None = None
    keep: bool = True
    on_message: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    _box: mailbox.Maildir | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        if self.maildir is not None:
            for folder in ("tmp", "new", "cur"):  # an existing, empty DIR becomes a Maildir
                (self.maildir / folder).mkdir(parents=True, exist_ok=True)
            self._box = mailbox.Maildir(self.maildir, create=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = Received(
            str(envelope.mail_from or ""), tuple(str(r) for r in envelope.rcpt_tos), content
        )
        key = self.store(message)
        return f"250 2.0.0 Ok: queued as {key}"

    def store(self, message: Received) -> str:
        with self._lock:
            key = ""
            if self._box is not None:
                key = self._box.add(message.data)
            if self.keep:
                self.received.append(message)
                key = key or str(len(self.received))
        if self.on_message is not None:
            self.on_message(message)
        return key

    def count_for(self, recipient: str) -> int:
        with self._lock:
            return sum(recipient in m.recipients for m in self.received)


class SmtpServer:
    """An aiosmtpd server on its own event loop in a background thread; port 0 picks a free
    port (see ``port`` after ``start``). Use as a context manager."""

    def __init__(
        self,
        handler: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        smtp_class: type[SMTP] = SMTP,
        **smtp_options: Any,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.smtp_class = smtp_class
        self.smtp_options = {"enable_SMTPUTF8": True, "data_size_limit": None, **smtp_options}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    def _factory(self) -> SMTP:
        return self.smtp_class(self.handler, **self.smtp_options)

    def start(self) -> SmtpServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(self._factory, self.host, self.port)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="smtp-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (to simulate a server going away)."""
        if self.loop is None or self._thread is None:
            return
        loop = self.loop

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_later(0.05, loop.stop)

        loop.call_soon_threadsafe(shutdown)
        self._thread.join(timeout=10)
        self.loop = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
