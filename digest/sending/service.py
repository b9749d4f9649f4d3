"""Sending an issue for an operator or the in-process scheduler: recover an interrupted run, seed
the ledger, send the scope (in this process or in ``sending.processes`` worker processes), and
settle the issue's status, all through ``runner`` and ``lifecycle``; and a dry run (``preview``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from digest.issues import Issue
from digest.sending import ledger, lifecycle
from digest.sending.messages import MessageFactory, Prepared
from digest.sending.processes import processes_for, usable_cores, with_processes
from digest.sending.results import ProgressFn, RangeResult, RunControls, RunCounts
from digest.sending.runner import Sender, run_issue, send_here
from digest.sending.scope import SendScope
from digest.sending.transports import Transport
from papercore.config import Settings
from subscribers import store
from subscribers.model import Subscriber


@dataclass
class SendReport:
    """What a send did: the issue as settled, this run's counts, the whole ledger's counts, rows
    an earlier run left in flight (now unknown), why it paused, and how long it took.
    ``already_done``: the issue was finished before and nothing was sent (``send_requested``)."""

    issue: Issue
    counts: RunCounts
    ledger: dict[str, int]
    interrupted: int = 0  # rows left in flight by an earlier run, now reported unknown
    paused: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    already_done: bool = False
    processes: int = 0  # sending processes the run used (0: it sent nothing)
    connections: int = 0  # SMTP connections it could open over all of them

    @property
    def rate(self) -> float:
        """Messages sent per second of the run."""
        return self.counts.sent / self.seconds if self.seconds > 0 else 0.0


def send_requested(
    engine: Engine,
    settings: Settings,
    issue_date: date,
    frequency: str,
    now: datetime,
    *,
    resume: bool,
    only: int | None = None,
    on_progress: ProgressFn | None = None,
    on_total: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """``digest send``: open the issue for (date, frequency) and send it, or only to subscriber
    ``only``. An interrupted or paused issue is continued only with ``resume`` or for one
    subscriber (else InputError); a finished one is sent again (to subscribers added since) only
    then too, and otherwise comes back ``already_done`` with nothing sent."""
    scope_whole = only is None
    issue = lifecycle.open_to_send(
        engine, issue_date, frequency, now, resume=resume, whole=scope_whole
    )
    if issue.status == "done" and not resume and scope_whole:
        return SendReport(issue, RunCounts(), _totals(engine, issue.id), already_done=True)
    scope = SendScope.of(issue.id, only)
    return send_issue(
        engine,
        settings,
        issue,
        now,
        scope=scope,
        on_progress=on_progress,
        on_total=on_total,
        should_stop=should_stop,
    )


def send_issue(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    *,
    scope: SendScope | None = None,
    transport: Transport | None = None,
    factory: MessageFactory | None = None,
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
            scope=scope,
            transport=transport,
            factory=factory,
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
    scope: SendScope | None = None,
    transport: Transport | None = None,
    factory: MessageFactory | None = None,
    on_progress: ProgressFn | None = None,
    on_total: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Send ``issue`` to every due subscriber of ``scope`` (default: the whole issue), recording
    each outcome in the ledger; safe to repeat and to resume after a crash. Without an explicit
    transport and factory, the configured relay and the real ranker and composer are used, in
    ``sending.processes`` worker processes when that is more than one. When ``should_stop()``
    turns true, messages in flight finish, the rest stay pending and the issue is paused with the
    reason. The issue is settled by ``lifecycle.settle``: a scope over part of the id range
    leaves the status it found unless it paused. Usable inside a running event loop (the
    database work of starting and settling runs in a thread)."""
    scope = scope or SendScope(issue.id)
    started = time.monotonic()
    used = Used()
    send = sender(engine, settings, now, transport, factory, on_progress, should_stop, used)
    report = await run_issue(
        engine,
        settings,
        [scope],
        now,
        send,
        whole=scope.whole,
        should_stop=should_stop,
        on_total=on_total,
    )
    elapsed = time.monotonic() - started
    totals = await asyncio.to_thread(_totals, engine, issue.id)
    return SendReport(
        report.issue,
        report.counts,
        totals,
        report.interrupted,
        report.paused,
        elapsed,
        processes=used.processes,
        connections=used.connections,
    )


@dataclass
class Used:
    """The most processes, and SMTP connections over them, that a run's scopes were sent with."""

    processes: int = 0
    connections: int = 0

    def note(self, processes: int, pool_size: int) -> None:
        """A scope is being sent in ``processes`` processes of ``pool_size`` connections each."""
        self.processes = max(self.processes, processes)
        self.connections = max(self.connections, processes * pool_size)


def sender(
    engine: Engine,
    settings: Settings,
    now: datetime,
    transport: Transport | None,
    factory: MessageFactory | None,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    used: Used | None = None,
) -> Sender:
    """How a run's scopes are sent: when neither a transport nor a factory is given, in as many
    processes as ``sending.processes`` resolves to for the messages waiting in the scope (one
    per core for "auto", ``processes.processes_for``), else in this process. ``used`` hears
    how many processes and connections each scope got."""
    controls = RunControls(should_stop=should_stop, on_progress=on_progress)
    pool_size = settings.smtp.pool_size
    cores = usable_cores()

    async def send(issue: Issue, scope: SendScope) -> RangeResult:
        n = 1
        if transport is None and factory is None and settings.sending.processes != 1:
            waiting = await asyncio.to_thread(_waiting, engine, scope)
            n = processes_for(settings.sending.processes, waiting, cores)
        if used is not None:
            used.note(n, pool_size)
        fixed = with_processes(settings, n)  # children and the local rate share see the number
        if n > 1:
            from digest.sending.parallel import send_in_processes

            return await asyncio.to_thread(
                send_in_processes, engine, fixed, issue, scope, now, on_progress, should_stop
            )
        return await send_here(engine, fixed, issue, scope, now, controls, transport, factory)

    return send


def _waiting(engine: Engine, scope: SendScope) -> int:
    with engine.connect() as connection:
        found = ledger.counts_in(connection, scope)
    return found["pending"] + found["deferred"]


def _totals(engine: Engine, issue_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return ledger.counts(connection, issue_id)


def preview(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    scope: SendScope | None = None,
    factory: MessageFactory | None = None,
) -> Iterator[tuple[Subscriber, Prepared | None, str | None]]:
    """What a send would do, writing nothing: each subscriber of the issue's frequency in the
    scope's id range with their message, or None and the reason they would be skipped
    (a finished ledger row for the issue included: a send, even ``--resume``, leaves it)."""
    scope = scope or SendScope(issue.id)
    if factory is None:
        from digest.sending.factory import build_factory

        factory = build_factory(engine, settings, issue, now)
    with engine.connect() as connection:
        for subscriber in store.iter_subscribers(
            connection, after_id=scope.after_id, up_to_id=scope.up_to_id
        ):
            if subscriber.frequency != issue.frequency:
                continue
            row = ledger.states(connection, issue.id, [subscriber.id]).get(subscriber.id)
            if row is not None and row.status not in ("pending", "deferred"):
                # a send never writes a finished row again: this issue is done for them
                yield subscriber, None, f"already {row.status} in this issue"
            elif subscriber.status != "active":
                yield subscriber, None, f"subscriber is {subscriber.status}"
            elif store.is_suppressed(connection, subscriber.email):
                yield subscriber, None, "the address is on the suppression list"
            else:
                message = factory.compose(connection, subscriber)
                reason = None if message else factory.why_none(subscriber)
                yield subscriber, message, reason
