"""Draining the notice outbox: each due notice is claimed, sent, and marked sent, or retried later
with a doubling wait, or given up after ``[web] outbox_max_attempts``. The web app, `digest serve`,
the scheduler's deliver pass and `digest worker` all drain through here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine

from digest.compose.notices import NoticeKind
from digest.sending import outbox
from digest.sending.notice_mail import Mailer, Notice
from papercore.config import Settings
from papercore.db.engine import transaction

log = logging.getLogger("digest.outbox")
BATCH = 50


def retry_wait(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: outbox_retry_seconds, doubling each time."""
    return timedelta(seconds=settings.web.outbox_retry_seconds * 2 ** max(attempts - 1, 0))


async def drain_outbox(
    engine: Engine, mailer: Mailer, settings: Settings, clock: Callable[[], datetime]
) -> int:
    """Send every notice that is due now; the number the relay accepted. Never raises for a
    failed notice (its error is kept on its outbox row and shown on /operator)."""
    now = clock()
    hold = retry_wait(settings, 1)

    def due() -> list[outbox.Queued]:
        with transaction(engine) as connection:
            return [
                q
                for q in outbox.due(connection, now, BATCH)
                if outbox.claim(connection, q, now, hold)
            ]

    def failed(item_id: int, error: str, retry_at: datetime | None) -> None:
        with transaction(engine) as connection:
            outbox.failed(connection, item_id, error, retry_at)

    def sent(item_id: int) -> None:
        with transaction(engine) as connection:
            outbox.sent(connection, item_id, clock())

    accepted = 0
    for item in await asyncio.to_thread(due):
        notice = Notice(cast(NoticeKind, item.kind), item.to, item.links, item.facts)
        tries = item.attempts + 1
        try:
            await mailer.send(notice)
        except Exception as exc:  # kept on the row; retried with backoff, then given up
            log.warning("outbox: the %s notice (try %d) failed: %s", item.kind, tries, exc)
            last = tries >= settings.web.outbox_max_attempts
            retry_at = None if last else clock() + retry_wait(settings, tries)
            await asyncio.to_thread(failed, item.id, f"{type(exc).__name__}: {exc}", retry_at)
            continue
        await asyncio.to_thread(sent, item.id)
        accepted += 1
    return accepted


async def drain_forever(
    engine: Engine,
    mailer: Mailer,
    settings: Settings,
    clock: Callable[[], datetime],
    every: float = 5.0,
) -> None:
    """Drain every ``every`` seconds until cancelled (`digest serve` runs this beside the web
    app, and `digest worker` beside its batches, so a notice queued before a crash is sent once
    either is back)."""
    while True:
        try:
            await drain_outbox(engine, mailer, settings, clock)
        except Exception:  # e.g. the database is briefly away: try again next round
            log.exception("outbox: drain failed")
        await asyncio.sleep(every)


async def drain_through_relay(
    engine: Engine, settings: Settings, clock: Callable[[], datetime]
) -> int:
    """One drain through the SMTP relay for the sending service (the scheduler's deliver pass);
    the number sent. Logs and returns 0 when the drain itself fails (e.g. the database is briefly
    away): the next pass tries again, and a digest pass is never failed by a notice."""
    from digest.sending.notice_mail import NoticeMailer
    from digest.sending.transports.smtp import SmtpTransport

    mailer = NoticeMailer(settings, SmtpTransport(settings.smtp), clock=clock)
    try:
        return await drain_outbox(engine, mailer, settings, clock)
    except Exception:
        log.exception("outbox: drain failed")
        return 0
    finally:
        await mailer.close()
