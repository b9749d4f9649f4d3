"""Draining the outbox through the web app's Mailer: each due notice is claimed, sent, and marked
sent, or retried later with a doubling wait, or given up after ``[web] outbox_max_attempts``."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import cast

from starlette.concurrency import run_in_threadpool

from digest.sending import outbox
from digest.web.mailer import Notice, NoticeKind
from digest.web.state import Web
from papercore.db.engine import transaction

log = logging.getLogger("digest.web")
BATCH = 50


def retry_wait(web: Web, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: outbox_retry_seconds, doubling each time."""
    return timedelta(seconds=web.settings.web.outbox_retry_seconds * 2 ** max(attempts - 1, 0))


async def drain(web: Web) -> int:
    """Send every notice that is due now; the number the relay accepted. Never raises for a
    failed notice (its error is kept on its outbox row and shown on /operator)."""
    now = web.clock()
    hold = retry_wait(web, 1)

    def due() -> list[outbox.Queued]:
        with transaction(web.engine) as connection:
            return [
                q
                for q in outbox.due(connection, now, BATCH)
                if outbox.claim(connection, q, now, hold)
            ]

    accepted = 0
    for item in await run_in_threadpool(due):
        notice = Notice(cast(NoticeKind, item.kind), item.to, item.links, item.facts)
        tries = item.attempts + 1
        try:
            await web.mailer.send(notice)
        except Exception as exc:  # kept on the row; retried with backoff, then given up
            log.warning("outbox: the %s notice (try %d) failed: %s", item.kind, tries, exc)
            last = tries >= web.settings.web.outbox_max_attempts
            retry_at = None if last else web.clock() + retry_wait(web, tries)
            error = f"{type(exc).__name__}: {exc}"
            await run_in_threadpool(_failed, web, item.id, error, retry_at)
            continue
        await run_in_threadpool(_sent, web, item.id)
        accepted += 1
    return accepted


def _failed(web: Web, item_id: int, error: str, retry_at: datetime | None) -> None:
    with transaction(web.engine) as connection:
        outbox.failed(connection, item_id, error, retry_at)


def _sent(web: Web, item_id: int) -> None:
    with transaction(web.engine) as connection:
        outbox.sent(connection, item_id, web.clock())


async def drain_forever(web: Web, every: float = 5.0) -> None:
    """Drain every ``every`` seconds until cancelled (`digest serve` runs this beside the app,
    so a notice queued before a crash is sent once the server is back)."""
    while True:
        try:
            await drain(web)
        except Exception:  # e.g. the database is briefly away: try again next round
            log.exception("outbox: drain failed")
        await asyncio.sleep(every)
