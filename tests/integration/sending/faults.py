"""Fault-injecting SMTP servers (aiosmtpd handlers and protocol variants) for the sending tests."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.sending.sink import SinkHandler


@dataclass
class FaultyHandler(SinkHandler):
    """A sink whose answers are scripted per recipient and attempt (counted from 1 at RCPT).

    rcpt:   {address: [reply for attempt 1, reply for attempt 2, ...]}; beyond the list, 250.
    data:   the same, at the end of DATA (a reply, or "cut" to close without answering, or
            "stall" to answer only after ``stall_seconds``; the message is kept in both cases).
    mail_stall: addresses whose first MAIL FROM attempt is answered after stall_seconds.
    """

    rcpt: dict[str, list[str]] = field(default_factory=dict)
    data: dict[str, list[str]] = field(default_factory=dict)
    data_all: str | None = None
    mail_stall_first: int = 0
    stall_seconds: float = 3.0
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    data_attempts: Counter[str] = field(default_factory=Counter)
    mail_count: int = 0
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.mail_count += 1
        if self.mail_count <= self.mail_stall_first:
            await asyncio.sleep(self.stall_seconds)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.rcpt_attempts[address] += 1
        script = self.rcpt.get(address, [])
        attempt = self.rcpt_attempts[address]
        if attempt <= len(script) and not script[attempt - 1].startswith("250"):
            return script[attempt - 1]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        address = envelope.rcpt_tos[0]
        self.data_attempts[address] += 1
        script = self.data.get(address, [])
        attempt = self.data_attempts[address]
        action = script[attempt - 1] if attempt <= len(script) else self.data_all or "250"
        if action == "cut":
            await super().handle_DATA(server, session, envelope)
            server.transport.close()
            return "250 never seen"
        if action == "stall":
            await asyncio.sleep(self.stall_seconds)
            return await super().handle_DATA(server, session, envelope)
        if not action.startswith("250"):
            return action
        return await super().handle_DATA(server, session, envelope)


class DropMidData(SMTP):
    """Resets the connection after the first line of DATA, for the addresses in ``drop`` (once
    each): the client's message never completes."""

    drop: ClassVar[set[str]] = set()
    dropped: ClassVar[set[str]] = set()

    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        address = self.envelope.rcpt_tos[0] if self.envelope.rcpt_tos else ""
        if address in self.drop and address not in self.dropped:
            self.dropped.add(address)
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
            return
        await super().smtp_DATA(arg)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
