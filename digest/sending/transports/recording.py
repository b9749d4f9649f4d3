"""A transport that keeps what it is given, for tests and dry runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from digest.sending.transports import Reply

Script = Callable[[str, int], "Reply | Exception"]


@dataclass(frozen=True, slots=True)
class Sent:
    sender: str
    recipient: str
    data: bytes


@dataclass
class RecordingTransport:
    """Accepts everything (``250 2.0.0 Ok``) unless ``script(recipient, attempt)`` returns another
    Reply or an exception to raise; attempt counts from 1 per recipient. Only accepted messages
    are kept in ``sent``."""

    script: Script | None = None
    delay: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    async def send(self, sender: str, recipient: str, data: bytes) -> Reply:
        attempt = self.attempts.get(recipient, 0) + 1
        self.attempts[recipient] = attempt
        if self.delay:
            await asyncio.sleep(self.delay)
        outcome = self.script(recipient, attempt) if self.script else Reply(250, "2.0.0 Ok")
        if isinstance(outcome, Exception):
            raise outcome
        if outcome.accepted:
            self.sent.append(Sent(sender, recipient, data))
        return outcome

    async def close(self) -> None:
        self.closed = True

    def received_by(self, recipient: str) -> list[bytes]:
        return [s.data for s in self.sent if s.recipient == recipient]
