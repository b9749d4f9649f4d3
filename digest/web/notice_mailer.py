"""The real Mailer: notices rendered by digest.compose, DKIM-signed when configured, sent through a
digest.sending Transport (the SMTP relay in production, a RecordingTransport in tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from digest.compose import OutgoingMessage, notice
from digest.sending.dkim import DkimSigner
from digest.sending.transports import Transport
from digest.web.mailer import Notice
from digest.web.state import utc_now
from papercore.config import Settings
from papercore.errors import DeliveryError


class NoticeMailer:
    def __init__(
        self, settings: Settings, transport: Transport, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.dkim = DkimSigner.from_settings(settings.dkim)

    def render(self, item: Notice) -> OutgoingMessage:
        """The complete message for a notice (the action link is the one thing it asks for)."""
        action = {
            "confirm": "confirm",
            "welcome": "preferences",
            "unsubscribed": "signup",
            "manage": "preferences",
        }
        return notice(
            item.kind,
            self.settings,
            to=item.to,
            action_url=item.links[action[item.kind]],
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
