"""Notice mails (confirm, welcome, change of address, goodbye, manage): what to tell whom, and the
real mailer that renders them with digest.compose and hands them to a sending Transport.

It lives in ``sending`` (not ``web``) so that every service that drains the outbox can send them:
the web app, the scheduler's deliver pass and ``digest worker``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from digest.compose import OutgoingMessage, notice
from digest.compose.notices import NoticeKind
from digest.sending.dkim import DkimSigner
from digest.sending.transports import Transport
from papercore.config import Settings
from papercore.errors import DeliveryError

# the link each kind's main button points to
ACTIONS: dict[str, str] = {
    "confirm": "confirm",
    "confirm_address": "confirm",
    "welcome": "preferences",
    "unsubscribed": "signup",
    "manage": "preferences",
    "address_moved": "signup",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice mail. ``links``: confirm, confirm_address → {"confirm"}; welcome →
    {"preview", "preferences", "unsubscribe", "archive"}; unsubscribed, address_moved →
    {"signup"}; manage → {"preferences", "unsubscribe"}. ``facts``: what else the mail tells
    them (welcome, manage: "topics", a list, and "first_digest", a sentence; address_moved:
    "new_address", the masked new address)."""

    kind: NoticeKind
    to: str
    links: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)


class Mailer(Protocol):
    async def send(self, notice: Notice) -> None:
        """Deliver the notice or raise a DigestError (the caller logs it; pages never show it)."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NoticeMailer:
    """Renders notices and sends them, DKIM-signed when configured, through ``transport``."""

    def __init__(
        self, settings: Settings, transport: Transport, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.dkim = DkimSigner.from_settings(settings.dkim)

    def render(self, item: Notice) -> OutgoingMessage:
        """The complete message for a notice (the action link is the one thing it asks for)."""
        return notice(
            item.kind,
            self.settings,
            to=item.to,
            action_url=item.links[ACTIONS[item.kind]],
            now=self.clock(),
            unsubscribe_url=item.links.get("unsubscribe"),
            preview_url=item.links.get("preview"),
            facts=item.facts,
        )

    async def send(self, item: Notice) -> None:
        message = await asyncio.to_thread(self.render, item)
        data = self.dkim.sign(message.data) if self.dkim is not None else message.data
        reply = await self.transport.send(self.settings.sender.from_address, message.to, data)
        if not reply.accepted:
            raise DeliveryError(f"the relay refused the {item.kind} notice: {reply}")

    async def close(self) -> None:
        await self.transport.close()


class RecordingMailer:
    """Keeps every notice instead of mailing it (tests, and `digest serve --dev` without SMTP)."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    async def send(self, notice: Notice) -> None:
        self.sent.append(notice)

    def last(self, kind: NoticeKind, to: str | None = None) -> Notice:
        """The newest notice of ``kind`` (to ``to``); AssertionError when there is none."""
        for sent in reversed(self.sent):
            if sent.kind == kind and (to is None or sent.to == to):
                return sent
        raise AssertionError(f"no {kind} notice{f' to {to}' if to else ''} was sent")
