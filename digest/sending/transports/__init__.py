"""The mail transport port: ``send`` prepared bytes to one recipient, ``close``.

A transport returns the server's final ``Reply`` for every SMTP answer (accepted or refused at
any stage) and raises only for connection-level trouble:

- ``RelayUnavailable``: the message was certainly not delivered (connect failed, the connection
  dropped or timed out before the end of DATA, or was reset with our data unread); retry later.
- ``OutcomeUnknown``: the connection was cut after the final dot, before the server answered; the
  message may or may not have been accepted, so it must not be resent silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from papercore.errors import DeliveryError

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True, slots=True)
class Reply:
    """A server reply: the basic code, its text, and the SMTP stage it answered."""

    code: int
    text: str = ""
    stage: str = "data"  # connect | mail | rcpt | data

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code ("5.1.1") at the start of the text, if any."""
        match = _ENHANCED.match(self.text)
        return ".".join(match.groups()) if match else None

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    def __str__(self) -> str:
        text = " ".join(self.text.split())
        return f"{self.code} {text}".strip()[:500]


class RelayUnavailable(DeliveryError):
    """The relay could not take the message now; it was not delivered."""


class OutcomeUnknown(DeliveryError):
    """The connection was lost after the whole message was sent and before the server replied."""


class AuthenticationFailed(DeliveryError):
    """The relay refused our credentials: nothing can be sent until the configuration is fixed."""


class Transport(Protocol):
    async def send(self, sender: str, recipient: str, data: bytes) -> Reply: ...

    async def close(self) -> None: ...
