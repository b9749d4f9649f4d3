"""SMTP: a pool of persistent connections that sends prepared message bytes (over aiosmtplib
for TLS and AUTH, over the lean pipelining client of ``wire.py`` for a plain relay).

Each pooled connection serves one message at a time and reconnects lazily after a drop. The DATA
phase is driven by hand so that a lost connection can be told apart before and after the final
dot: before it (or reset by the server with our data unread) the message was not delivered;
after it, with a clean close or a timeout, the outcome is unknown.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

import aiosmtplib
from aiosmtplib.errors import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from digest.sending.transports import (
    AuthenticationFailed,
    OutcomeUnknown,
    RelayUnavailable,
    Reply,
)
from digest.sending.transports.wire import WireConnection, wire_data
from papercore.config import SmtpSettings

_CONNECTION_ERRORS = (SMTPServerDisconnected, SMTPTimeoutError, OSError, asyncio.TimeoutError)


def _was_reset(exc: BaseException) -> bool:
    """Whether the server reset the connection (it dropped data it had not read)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionResetError | BrokenPipeError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def make_client(
    s: SmtpSettings, *, timeout: float, local_hostname: str | None = None
) -> aiosmtplib.SMTP:
    """An unconnected aiosmtplib client with the configured TLS, certificate checks and AUTH."""
    context = None
    if s.security != "none" and not s.validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return aiosmtplib.SMTP(
        hostname=s.host,
        port=s.port,
        use_tls=s.security == "tls",
        start_tls=s.security == "starttls",
        validate_certs=s.validate_certs,
        tls_context=context,
        username=s.username or None,
        password=s.password.get_secret_value() or None,
        timeout=timeout,
        local_hostname=local_hostname,
    )


@dataclass
class _Connection:
    settings: SmtpSettings
    local_hostname: str | None
    client: aiosmtplib.SMTP | None = None

    async def ensure(self) -> aiosmtplib.SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        s = self.settings
        client = make_client(s, timeout=s.timeout, local_hostname=self.local_hostname)
        try:
            await client.connect()
            if client.last_ehlo_response is None and client.last_helo_response is None:
                await client.ehlo()
        except SMTPAuthenticationError as exc:
            client.close()
            raise AuthenticationFailed(
                f"the relay {s.host}:{s.port} refused the login for {s.username!r}: "
                f"{exc.code} {exc.message}"
            ) from exc
        except SMTPResponseException as exc:
            client.close()
            raise RelayUnavailable(
                f"the relay {s.host}:{s.port} refused the connection: {exc.code} {exc.message}"
            ) from exc
        except (*_CONNECTION_ERRORS, SMTPException) as exc:
            client.close()
            raise RelayUnavailable(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        self.client = client
        return client

    def drop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    async def send(self, sender: str, recipient: str, data: bytes) -> Reply:
        client = await self.ensure()
        timeout = self.settings.timeout
        stage = "mail"
        try:
            reply = await client.execute_command(b"MAIL", b"FROM:<" + sender.encode() + b">")
            if reply.code == 250:
                stage = "rcpt"
                reply = await client.execute_command(b"RCPT", b"TO:<" + recipient.encode() + b">")
            if reply.code in (250, 251):
                stage = "data"
                reply = await client.execute_command(b"DATA")
                if reply.code == 354:
                    return await self._data(client, data, timeout)
        except _CONNECTION_ERRORS as exc:
            self.drop()
            raise RelayUnavailable(f"connection lost at {stage.upper()}: {exc}") from exc
        except ValueError as exc:  # a control character in an address: never our relay's fault
            return Reply(501, f"5.1.3 unusable address: {exc}", stage)
        if reply.code == 421:
            self.drop()
        else:
            await self._reset(client)
        return Reply(reply.code, reply.message, stage)

    async def _data(self, client: aiosmtplib.SMTP, data: bytes, timeout: float) -> Reply:
        protocol = client.protocol
        if protocol is None:
            self.drop()
            raise RelayUnavailable("connection lost at DATA")
        try:
            protocol.write(wire_data(data))
        except _CONNECTION_ERRORS as exc:
            self.drop()
            raise RelayUnavailable(f"connection lost during DATA: {exc}") from exc
        try:
            reply = await protocol.read_response(timeout=timeout)
        except _CONNECTION_ERRORS as exc:
            transport = protocol.transport
            unsent = 0
            if isinstance(transport, asyncio.WriteTransport):
                unsent = transport.get_write_buffer_size()
            self.drop()
            if unsent or _was_reset(exc):
                raise RelayUnavailable(f"connection reset during DATA: {exc}") from exc
            raise OutcomeUnknown(f"connection lost after the end of DATA: {exc}") from exc
        if reply.code == 421:
            self.drop()
        return Reply(reply.code, reply.message, "data")

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.rset()
        except (*_CONNECTION_ERRORS, SMTPException):
            self.drop()

    async def quit(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except (*_CONNECTION_ERRORS, SMTPException):
                pass
        self.drop()


@dataclass
class SmtpTransport:
    """``pool_size`` persistent connections to the configured relay; ``send`` waits for a free
    one. Safe to use from many coroutines of one event loop."""

    settings: SmtpSettings
    local_hostname: str | None = None
    _idle: asyncio.LifoQueue[_Connection | WireConnection] | None = field(default=None, init=False)

    def _pool(self) -> asyncio.LifoQueue[_Connection | WireConnection]:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            s = self.settings
            # Plain relays get the lean client; TLS and AUTH go through aiosmtplib.
            plain = s.security == "none" and not s.username
            for _ in range(s.pool_size):
                self._idle.put_nowait(
                    WireConnection(s, self.local_hostname)
                    if plain
                    else _Connection(s, self.local_hostname)
                )
        return self._idle

    async def send(self, sender: str, recipient: str, data: bytes) -> Reply:
        pool = self._pool()
        connection = await pool.get()
        try:
            return await connection.send(sender, recipient, data)
        finally:
            pool.put_nowait(connection)

    async def close(self) -> None:
        if self._idle is None:
            return
        connections = []
        while not self._idle.empty():
            connections.append(self._idle.get_nowait())
        await asyncio.gather(*(c.quit() for c in connections))
        self._idle = None
