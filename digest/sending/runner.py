"""The one way a send runs: begin the scope through the lifecycle, send it, settle the issue.

``send_here`` sends a scope in this process (building the real factory and SMTP transport when
none is given); ``run_issue`` drives runs (``digest send``, the in-process scheduler, and each
of them over ``sending.processes`` processes through a ``Sender``); ``run_batch`` drives queued
batches (``digest worker``). The issue's status rules are ``lifecycle``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest.issues import Issue
from digest.sending import lifecycle
from digest.sending.lifecycle import Began, Requeue
from digest.sending.messages import MessageFactory
from digest.sending.results import RangeResult, RunControls, RunCounts
from digest.sending.run import send_range
from digest.sending.scope import SendScope
from digest.sending.transports import Transport
from papercore.config import Settings

# Sends one begun scope of the issue and reports what happened (this process or several).
Sender = Callable[[Issue, SendScope], Awaitable[RangeResult]]
ScopeDone = Callable[[SendScope, Began, RangeResult], None]


@dataclass
class RunReport:
    """What a run or batch did: the issue as settled (as begun when ``stopped``), this run's
    counts, rows found left in flight by an earlier run, rows waiting when it began, and why it
    paused."""

    issue: Issue
    counts: RunCounts = field(default_factory=RunCounts)
    interrupted: int = 0
    waiting: int = 0
    paused: str | None = None
    stopped: bool = False  # a batch whose worker is stopping: not settled, to run again


async def send_here(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    scope: SendScope,
    now: datetime,
    controls: RunControls,
    transport: Transport | None = None,
    factory: MessageFactory | None = None,
) -> RangeResult:
    """Send a begun scope in this process. Without a factory the real ranker and composer are
    built for the issue; without a transport the configured relay is used, and closed after."""
    if factory is None:
        from digest.sending.factory import build_factory

        factory = await asyncio.to_thread(build_factory, engine, settings, issue, now)
    own_transport = transport is None
    if transport is None:
        from digest.sending.transports.smtp import SmtpTransport

        transport = SmtpTransport(settings.smtp)
    try:
        return await send_range(engine, settings, issue, scope, transport, factory, now, controls)
    finally:
        if own_transport:
            await transport.close()


async def run_issue(
    engine: Engine,
    settings: Settings,
    scopes: Sequence[SendScope],
    now: datetime,
    send: Sender,
    *,
    whole: bool,
    should_stop: Callable[[], bool] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_scope: ScopeDone | None = None,
) -> RunReport:
    """Begin and send each scope of one issue in turn (until ``should_stop()``), then settle the
    issue once (``lifecycle.settle``, ``whole`` or not) with the first pause, if any. Safe to
    repeat. ``on_total`` hears how many rows wait once each scope began."""
    assert scopes, "a run has at least one scope"
    found: Issue | None = None
    report: RunReport | None = None
    for scope in scopes:
        if report is not None and should_stop is not None and should_stop():
            break
        began = await asyncio.to_thread(lifecycle.begin, engine, settings, scope, now)
        found = found or began.issue
        report = report or RunReport(began.issue)
        report.interrupted += began.interrupted
        report.waiting += began.waiting or 0
        if on_total is not None:
            on_total(report.waiting)
        result = await send(began.issue, scope)
        report.counts.add(result.counts)
        report.paused = report.paused or result.paused
        if on_scope is not None:
            on_scope(scope, began, result)
    assert found is not None and report is not None
    report.issue = await asyncio.to_thread(
        lifecycle.settle, engine, found, now, report.paused, whole=whole
    )
    return report


async def run_batch(
    engine: Engine,
    settings: Settings,
    scope: SendScope,
    now: datetime,
    send: Sender,
    requeue: Requeue,
    stopping: Callable[[], bool],
) -> RunReport:
    """Begin a queued batch's scope (``lifecycle.begin_batch``), send it, and settle the issue
    (``lifecycle.settle_batch``, requeueing the batch for its next retry) unless ``stopping()``
    turned true: then the report says ``stopped`` and nothing is settled."""
    began = await asyncio.to_thread(lifecycle.begin_batch, engine, settings, scope, now)
    result = await send(began.issue, scope)
    report = RunReport(began.issue, result.counts, began.interrupted, 0, result.paused)
    if stopping():
        report.stopped = True
        return report
    report.issue = await asyncio.to_thread(
        lifecycle.settle_batch, engine, scope, now, result.paused, requeue
    )
    return report
