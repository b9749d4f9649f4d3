"""A minimal SMTP client connection for the plain hot path (no TLS, no AUTH): one asyncio
protocol, replies parsed as they arrive, MAIL/RCPT/DATA pipelined when the server advertises
PIPELINING (RFC 2920). Replies and failures mean exactly what they mean for the aiosmtplib
connection: every SMTP answer becomes a ``Reply`` with its stage; a connection lost before the
final dot (or reset with our data unread) is ``RelayUnavailable``; one lost after it, cleanly
or by a timeout, is ``OutcomeUnknown``."""

from __future__ import annotations

import asyncio
import re
import socket
from collections import deque
from functools import lru_cache

from digest.sending.transports import OutcomeUnknown, RelayUnavailable, Reply
from papercore.config import SmtpSettings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")
MAX_LINE = 8192


class ConnectionDropped(Exception):
    """The connection is gone (closed, reset, timed out or answering nonsense)."""

    def __init__(self, why: str, reset: bool = False) -> None:
        super().__init__(why)
        self.reset = reset


def wire_data(data: bytes) -> bytes:
    """The DATA payload: CRLF line ends, dot-stuffed, terminated by ``.\\r\\n``."""
    crlf = data.count(b"\r\n")
    if crlf == data.count(b"\n") == data.count(b"\r") and data.endswith(b"\r\n"):
        # the common case (composed messages are CRLF already): no regex over 50 KB; with CRLF
        # line ends every line but the first starts right after a "\r\n"
        stuffed = data.replace(b"\r\n.", b"\r\n..")
        return (b"." if data.startswith(b".") else b"") + stuffed + b".\r\n"
    normal = _LINE_ENDS.sub(b"\r\n", data)
    if not normal.endswith(b"\r\n"):
        normal += b"\r\n"
    return _LEADING_DOT.sub(b"..", normal) + b".\r\n"


@lru_cache(maxsize=1)
def _fqdn() -> str:
    return socket.getfqdn()


class _Wire(asyncio.Protocol):
    """Bytes in, complete replies out (in order)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.replies: deque[tuple[int, str]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.gone: ConnectionDropped | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while self._take_reply():
                pass
        except ConnectionDropped as exc:
            self._lose(exc)
            if self.transport is not None:
                self.transport.abort()
            return
        self._wake()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        reset = isinstance(exc, ConnectionResetError | BrokenPipeError)
        self._lose(
            ConnectionDropped(f"{exc}" if exc else "the server closed the connection", reset)
        )

    def _lose(self, why: ConnectionDropped) -> None:
        if self.gone is None:
            self.gone = why
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _take_reply(self) -> bool:
        """Move one complete (possibly multi-line) reply from the buffer to ``replies``."""
        buffer = self.buffer
        offset = 0
        lines: list[str] = []
        while True:
            end = buffer.find(b"\n", offset)
            if end == -1:
                if len(buffer) - offset > MAX_LINE:
                    raise ConnectionDropped("the server sent an overlong reply line")
                return False
            line = bytes(buffer[offset : end + 1])
            try:
                code = int(line[:3])
            except ValueError:
                raise ConnectionDropped(f"malformed SMTP reply: {line[:80]!r}") from None
            offset = end + 1
            lines.append(line[4:].strip(b" \t\r\n").decode("utf-8", "surrogateescape"))
            if line[3:4] != b"-":
                break
        del buffer[:offset]
        self.replies.append((code, "\n".join(lines)))
        return True

    async def reply(self, timeout: float) -> tuple[int, str]:
        if self.replies:
            return self.replies.popleft()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.replies:
            if self.gone is not None:
                raise self.gone
            left = deadline - loop.time()
            if left <= 0:
                raise ConnectionDropped(f"no reply within {timeout:g} s")
            waiter = self.waiter = loop.create_future()
            timer = loop.call_later(left, _settle, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self.waiter = None
        return self.replies.popleft()

    def unsent(self) -> int:
        """Bytes we wrote that have not reached the kernel yet."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return 0
        return transport.get_write_buffer_size()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class WireConnection:
    """One persistent plain SMTP connection, reconnected lazily after a drop."""

    def __init__(self, settings: SmtpSettings, local_hostname: str | None) -> None:
        self.settings = settings
        self.local_hostname = local_hostname
        self.wire: _Wire | None = None
        self.pipelining = False

    async def ensure(self) -> _Wire:
        current = self.wire
        if current is not None and current.gone is None:
            return current
        self.drop()
        s = self.settings
        loop = asyncio.get_running_loop()
        try:
            _, wire = await asyncio.wait_for(
                loop.create_connection(_Wire, s.host, s.port), timeout=s.timeout
            )
        except (TimeoutError, OSError) as exc:
            raise RelayUnavailable(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        self.wire = wire
        try:
            code, text = await wire.reply(s.timeout)
            if code != 220:
                self.drop()
                raise RelayUnavailable(
                    f"the relay {s.host}:{s.port} refused the connection: {code} {text}"
                )
            name = (self.local_hostname or _fqdn()).encode()
            wire.transport.write(b"EHLO " + name + b"\r\n")  # type: ignore[union-attr]
            code, text = await wire.reply(s.timeout)
            if code != 250:
                wire.transport.write(b"HELO " + name + b"\r\n")  # type: ignore[union-attr]
                code, text = await wire.reply(s.timeout)
                if code != 250:
                    self.drop()
                    raise RelayUnavailable(
                        f"the relay {s.host}:{s.port} refused the connection: {code} {text}"
                    )
                text = ""
            keywords = {line.split(" ", 1)[0].upper() for line in text.split("\n")[1:]}
            self.pipelining = "PIPELINING" in keywords
        except ConnectionDropped as exc:
            self.drop()
            raise RelayUnavailable(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        return wire

    def drop(self) -> None:
        wire, self.wire = self.wire, None
        if wire is not None and wire.transport is not None:
            wire.transport.abort()

    async def send(self, sender: str, recipient: str, data: bytes) -> Reply:
        for stage, address in (("mail", sender), ("rcpt", recipient)):
            if _CONTROL.search(address):
                return Reply(501, "5.1.3 unusable address: a control character", stage)
        wire = await self.ensure()
        timeout = self.settings.timeout
        write = wire.transport.write  # type: ignore[union-attr]
        mail = b"MAIL FROM:<" + sender.encode() + b">\r\n"
        rcpt = b"RCPT TO:<" + recipient.encode() + b">\r\n"
        stage = "mail"
        try:
            if self.pipelining:
                write(mail + rcpt + b"DATA\r\n")
                answers: list[tuple[int, str]] = []
                try:
                    while len(answers) < 3:
                        stage = ("mail", "rcpt", "data")[len(answers)]
                        answers.append(await wire.reply(timeout))
                except ConnectionDropped:
                    refused = _first_failure(answers)
                    if refused is None:
                        raise
                    self.drop()  # e.g. a 421 and a close: the refusal is the answer
                    return Reply(*refused)
                failed = _first_failure(answers)
                if failed is None:
                    return await self._data(wire, data, timeout)
                stage = "data"
                if answers[2][0] == 354:  # RFC 2920: end the empty message the server began
                    write(b".\r\n")
                    await wire.reply(timeout)
                code, text, stage = failed
            else:
                write(mail)
                code, text = await wire.reply(timeout)
                if code == 250:
                    stage = "rcpt"
                    write(rcpt)
                    code, text = await wire.reply(timeout)
                if code in (250, 251):
                    stage = "data"
                    write(b"DATA\r\n")
                    code, text = await wire.reply(timeout)
                    if code == 354:
                        return await self._data(wire, data, timeout)
        except ConnectionDropped as exc:
            self.drop()
            raise RelayUnavailable(f"connection lost at {stage.upper()}: {exc}") from exc
        if code == 421:
            self.drop()
        else:
            await self._reset(wire, timeout)
        return Reply(code, text, stage)

    async def _data(self, wire: _Wire, data: bytes, timeout: float) -> Reply:
        if wire.gone is not None:
            self.drop()
            raise RelayUnavailable(f"connection lost during DATA: {wire.gone}")
        wire.transport.write(wire_data(data))  # type: ignore[union-attr]
        try:
            code, text = await wire.reply(timeout)
        except ConnectionDropped as exc:
            unsent = wire.unsent()
            self.drop()
            if unsent or exc.reset:
                raise RelayUnavailable(f"connection reset during DATA: {exc}") from exc
            raise OutcomeUnknown(f"connection lost after the end of DATA: {exc}") from exc
        if code == 421:
            self.drop()
        return Reply(code, text, "data")

    async def _reset(self, wire: _Wire, timeout: float) -> None:
        try:
            wire.transport.write(b"RSET\r\n")  # type: ignore[union-attr]
            await wire.reply(timeout)
        except ConnectionDropped:
            self.drop()

    async def quit(self) -> None:
        wire = self.wire
        if wire is not None and wire.gone is None and wire.transport is not None:
            try:
                wire.transport.write(b"QUIT\r\n")
                await wire.reply(min(self.settings.timeout, 5.0))
            except ConnectionDropped:
                pass
            wire.transport.close()
        self.wire = None


def _first_failure(answers: list[tuple[int, str]]) -> tuple[int, str, str] | None:
    """The first refusal among the pipelined MAIL, RCPT and DATA replies received so far, with
    its stage."""
    for (code, text), stage, good in zip(
        answers, ("mail", "rcpt", "data"), ((250,), (250, 251), (354,)), strict=False
    ):
        if code not in good:
            return code, text, stage
    return None
