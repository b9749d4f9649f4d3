"""Draining the outbox through the web app's Mailer (digest.sending.outbox_sender does the work):
after each page that queued a notice, and every few seconds beside `digest serve`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from digest.sending.outbox_sender import drain_outbox
from digest.sending.outbox_sender import retry_wait as _retry_wait
from digest.web.state import Web

log = logging.getLogger("digest.web")


def retry_wait(web: Web, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: outbox_retry_seconds, doubling each time."""
    return _retry_wait(web.settings, attempts)


async def drain(web: Web) -> int:
    """Send every notice that is due now; the number the relay accepted. Never raises for a
    failed notice (its error is kept on its outbox row and shown on /operator)."""
    return await drain_outbox(web.engine, web.mailer, web.settings, web.clock)


async def drain_forever(web: Web, every: float = 5.0) -> None:
    """Drain every ``every`` seconds until cancelled (`digest serve` runs this beside the app,
    so a notice queued before a crash is sent once the server is back)."""
    while True:
        try:
            await drain(web)
        except Exception:  # e.g. the database is briefly away: try again next round
            log.exception("outbox: drain failed")
        await asyncio.sleep(every)
