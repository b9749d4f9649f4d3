"""The SMTP (or LMTP) listener an MTA hands bounces, complaints and mailed unsubscribes to
(``digest inbound``). Each message is processed before the server answers: 250 when it is
recorded, 451 (try again later) when it could not be, so the MTA keeps it and nothing is lost.
Over LMTP that answer is given once per recipient, as RFC 2033 requires."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.inbound.process import Handled, Inbound
from digest.sending.sink import SmtpServer
from papercore.errors import DigestError

log = logging.getLogger("digest.inbound")
MAX_BYTES = 25_000_000  # larger "bounces" are refused by the server
TRY_LATER = "451 4.3.0 cannot process the message now; try again later"


@dataclass
class InboundHandler:
    """aiosmtpd handler: every message goes to ``Inbound.handle_message``."""

    inbound: Inbound
    via: str = "smtp"
    on_handled: Callable[[Handled], None] | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        recipients = [str(r) for r in envelope.rcpt_tos]
        try:
            handled = await asyncio.to_thread(
                self.inbound.handle_message, raw, recipients, via=self.via
            )
        except DigestError as exc:
            log.error("inbound message not processed: %s", exc.one_line())
            return self._per_recipient(TRY_LATER, recipients)
        except Exception:  # a bug: logged here, never told to whoever sent the message
            log.exception("inbound message not processed")
            return self._per_recipient(TRY_LATER, recipients)
        if self.on_handled is not None:
            self.on_handled(handled)
        return self._per_recipient(f"250 2.0.0 Ok: {handled.kind} {handled.action}", recipients)

    def _per_recipient(self, reply: str, recipients: list[str]) -> str:
        # aiosmtpd's LMTP answers DATA once; an LMTP client waits for one reply per recipient
        if self.via != "lmtp":
            return reply
        return "\r\n".join([reply] * max(1, len(recipients)))


def listener(
    inbound: Inbound,
    host: str,
    port: int,
    *,
    lmtp: bool = False,
    on_handled: Callable[[Handled], None] | None = None,
) -> SmtpServer:
    """An SMTP (or LMTP) server, not yet started, that processes what it receives."""
    handler = InboundHandler(inbound, "lmtp" if lmtp else "smtp", on_handled)
    return SmtpServer(
        handler, host=host, port=port, smtp_class=LMTP if lmtp else SMTP, data_size_limit=MAX_BYTES
    )
