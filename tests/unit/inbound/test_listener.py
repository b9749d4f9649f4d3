"""The SMTP listener's replies never carry Python's words: whatever goes wrong while a message
is processed, the sender gets a plain 451 (try again later), and the error goes to the log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.inbound.listener import InboundHandler
from digest.inbound.process import Handled, Inbound


class Tripping:
    """An inbound service that trips over every message (a bug)."""

    def handle_message(
        self, raw: bytes, envelope_recipients: Sequence[str] = (), *, via: str
    ) -> Handled:
        raise AttributeError("'Header' object has no attribute 'rpartition'")


def test_an_exception_is_answered_451_without_its_text(caplog: pytest.LogCaptureFixture) -> None:
    handler = InboundHandler(cast(Inbound, Tripping()))
    envelope = Envelope()
    envelope.original_content = b"Subject: x\r\n\r\nx\r\n"
    envelope.rcpt_tos = ["bounces@example.net"]
    reply = asyncio.run(handler.handle_DATA(cast(SMTP, None), cast(Session, None), envelope))
    assert reply.startswith("451 ")
    assert "Header" not in reply and "rpartition" not in reply
    assert "rpartition" in caplog.text
