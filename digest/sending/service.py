"""Sending an issue: recover an interrupted run, seed the ledger, send the id range (in this
process or in ``sending.processes`` worker processes), and settle the issue's status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest.issues import Issue, get_issue, set_status
from digest.sending import ledger
from digest.sending.messages import MessageFactory, Prepared
from digest.sending.run import SHUTDOWN, RunCounts, send_range
from digest.sending.transports import Transport
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.model import Subscriber

ProgressFn = Callable[[RunCounts], None]


@dataclass
class SendReport:
    issue: Issue
    counts: RunCounts
    ledger: dict[str, int]
    interrupted: int = 0  # rows left in flight by an earlier run, now reported unknown
    paused: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.counts.sent / self.seconds if self.seconds > 0 else 0.0


def begin(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Make the range (narrowed to ``subscriber_ids`` when given) ready to send: rows left
    ``sending`` become unknown (or pending again with ``sending.resend_unknown``), every due
    subscriber gets a pending row, the issue is ``sending``. Returns (rows found in flight, rows
    now pending or deferred)."""
    with transaction(engine) as connection:
        interrupted = ledger.recover_interrupted(
            connection,
            issue.id,
            now,
            resend_unknown=settings.sending.resend_unknown,
            after_id=after_id,
            up_to_id=up_to_id,
            subscriber_ids=subscriber_ids,
        )
        ledger.seed_pending(
            connection, issue.id, issue.frequency, now, after_id, up_to_id, subscriber_ids
        )
        set_status(connection, issue.id, "sending", now)
        found = ledger.counts(connection, issue.id, after_id, up_to_id, subscriber_ids)
    return interrupted, found["pending"] + found["deferred"]


def settle(
    engine: Engine, issue: Issue, now: datetime, paused: str | None, whole: bool = True
) -> Issue:
    """The issue's status after a run: paused (with why), done, or paused when deferred
    messages remain for a later run. A run over part of the id range (``whole`` False) leaves
    the status as it found it unless it paused: whoever runs the parts decides when all is done."""
    with transaction(engine) as connection:
        found = ledger.counts(connection, issue.id)
        remaining = found["pending"] + found["deferred"] + found["sending"]
        if paused is not None:
            set_status(connection, issue.id, "paused", now, paused)
        elif not whole:
            set_status(connection, issue.id, issue.status, now, issue.pause_reason)
        elif remaining:
            set_status(
                connection,
                issue.id,
                "paused",
                now,
                f"{remaining} messages wait for a retry: run `digest send --resume` later",
            )
        else:
            set_status(connection, issue.id, "done", now)
        return get_issue(connection, issue.id)


def send_issue(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    *,
    transport: Transport | None = None,
    factory: MessageFactory | None = None,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
    on_progress: ProgressFn | None = None,
    on_total: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """``send_issue_async`` for callers without an event loop."""
    return asyncio.run(
        send_issue_async(
            engine,
            settings,
            issue,
            now,
            transport=transport,
            factory=factory,
            after_id=after_id,
            up_to_id=up_to_id,
            subscriber_ids=subscriber_ids,
            on_progress=on_progress,
            on_total=on_total,
            should_stop=should_stop,
        )
    )


async def send_issue_async(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    *,
    transport: Transport | None = None,
    factory: MessageFactory | None = None,
    after_id: int = 0,
    up_to_id: int | None = None,
    subscriber_ids: Sequence[int] | None = None,
    on_progress: ProgressFn | None = None,
    on_total: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Send ``issue`` to every due subscriber with an id in (after_id, up_to_id] (only to those
    in ``subscriber_ids`` when given), recording each outcome in the ledger; safe to repeat and
    to resume after a crash. Without an explicit transport and factory, the configured relay and
    the real ranker and composer are used, in ``sending.processes`` worker processes when that is
    more than one. When ``should_stop()`` turns true, messages in flight finish, the rest stay
    pending and the issue is paused with the reason. Usable inside a running event loop (the
    database work of starting and settling runs in a thread)."""
    started = time.monotonic()
    interrupted, total = await asyncio.to_thread(
        begin, engine, settings, issue, now, after_id, up_to_id, subscriber_ids
    )
    if on_total is not None:
        on_total(total)
    if transport is None and factory is None and settings.sending.processes > 1:
        from digest.sending.parallel import send_in_processes

        counts, paused = await asyncio.to_thread(
            send_in_processes,
            engine,
            settings,
            issue,
            now,
            after_id,
            up_to_id,
            on_progress,
            subscriber_ids,
            should_stop,
        )
    else:
        counts, paused = await _send_here(
            engine,
            settings,
            issue,
            now,
            transport,
            factory,
            after_id,
            up_to_id,
            on_progress,
            should_stop,
            subscriber_ids,
        )
    elapsed = time.monotonic() - started
    # An explicit subscriber list is settled like a whole run: the ledger of the whole issue
    # decides between done and paused.
    whole = after_id == 0 and up_to_id is None
    settled = await asyncio.to_thread(settle, engine, issue, now, paused, whole)
    totals = await asyncio.to_thread(_totals, engine, issue.id)
    return SendReport(settled, counts, totals, interrupted, paused, elapsed)


def _totals(engine: Engine, issue_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return ledger.counts(connection, issue_id)


async def _send_here(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    transport: Transport | None,
    factory: MessageFactory | None,
    after_id: int,
    up_to_id: int | None,
    on_progress: ProgressFn | None,
    should_stop: Callable[[], bool] | None = None,
    subscriber_ids: Sequence[int] | None = None,
    stop_reason: str = SHUTDOWN,
) -> tuple[RunCounts, str | None]:
    if factory is None:
        from digest.sending.factory import build_factory

        factory = await asyncio.to_thread(build_factory, engine, settings, issue, now)
    own_transport = transport is None
    if transport is None:
        from digest.sending.transports.smtp import SmtpTransport

        transport = SmtpTransport(settings.smtp)
    try:
        result = await send_range(
            engine,
            settings,
            issue,
            transport,
            factory,
            now,
            after_id=after_id,
            up_to_id=up_to_id,
            on_progress=on_progress,
            should_stop=should_stop,
            subscriber_ids=subscriber_ids,
            stop_reason=stop_reason,
        )
    finally:
        if own_transport:
            await transport.close()
    return result.counts, result.paused


def preview(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    after_id: int = 0,
    up_to_id: int | None = None,
    factory: MessageFactory | None = None,
) -> Iterator[tuple[Subscriber, Prepared | None, str | None]]:
    """What a send would do, writing nothing: each subscriber of the issue's frequency with
    their message, or None and the reason they would be skipped."""
    if factory is None:
        from digest.sending.factory import build_factory

        factory = build_factory(engine, settings, issue, now)
    with engine.connect() as connection:
        for subscriber in store.iter_subscribers(connection, after_id=after_id, up_to_id=up_to_id):
            if subscriber.frequency != issue.frequency:
                continue
            if subscriber.status != "active":
                yield subscriber, None, f"subscriber is {subscriber.status}"
            elif store.is_suppressed(connection, subscriber.email):
                yield subscriber, None, "the address is on the suppression list"
            else:
                message = factory.compose(connection, subscriber)
                reason = None if message else "no new papers match this subscriber"
                yield subscriber, message, reason
