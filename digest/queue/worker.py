"""What a ``digest worker`` process does: run batch jobs through the send loop, share pacing
through PostgreSQL, and give the batches of dead workers back to the queue.

A batch sends the ledger rows of one issue in one id range. Every step is safe to repeat: a batch
run again after a crash first marks the rows its dead run left ``sending`` as unknown (they may
have arrived; they are not resent unless ``sending.resend_unknown``), then sends what is still
pending. Messages that wait for a retry do not hold a worker: the batch is queued again for the
time the first of them falls due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, RetryStrategy
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Job, Status
from procrastinate.retry import RetryDecision
from sqlalchemy import Connection, Engine

from digest.issues import Issue
from digest.queue.batches import QUEUE, TASK, Batch
from digest.queue.dispatch import defer_batches
from digest.queue.jobs import conninfo, make_app
from digest.queue.pacing import SharedDomainLimiter, SharedPacing, SharedRateLimit
from digest.sending.messages import MessageFactory
from digest.sending.notice_mail import NoticeMailer
from digest.sending.outbox_sender import drain_forever, drain_outbox
from digest.sending.results import RangeResult, RunControls
from digest.sending.runner import run_batch, send_here
from digest.sending.scope import SendScope
from digest.sending.transports import Transport
from papercore.config import Settings
from papercore.errors import DigestError

log = logging.getLogger("digest.queue")


class BatchPaused(DigestError):
    """The send run paused (policy refusal, error-rate breaker): an operator must look first."""


class BatchInterrupted(DigestError):
    """The worker is stopping; the batch's unsent messages are pending again, to run later."""


class BatchRetry(RetryStrategy):
    """Retry a batch after errors (and interruptions), never after a pause."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, BatchPaused):
            return None
        if isinstance(exception, BatchInterrupted):
            return RetryDecision(retry_in={"seconds": 0})
        return super().get_retry_decision(exception=exception, job=job)


FactoryMaker = Callable[[Engine, Settings, Issue, datetime], MessageFactory]


def _real_factory(engine: Engine, settings: Settings, issue: Issue, now: datetime) -> Any:
    from digest.sending.factory import build_factory

    return build_factory(engine, settings, issue, now)


@dataclass
class BatchRunner:
    """Runs batches in one worker process: one SMTP pool, the shared pacing, one message factory
    per issue (the ranker indexes the issue's papers once)."""

    engine: Engine
    settings: Settings
    app: App
    transport: Transport
    pacing: SharedPacing
    make_factory: FactoryMaker = _real_factory
    stopping: bool = False
    _factories: dict[int, MessageFactory] = field(default_factory=dict)

    async def run(self, batch: Batch) -> dict[str, int]:
        """Send the batch's pending rows through the runner; returns this run's counts. Raises
        BatchInterrupted when the worker is stopping and BatchPaused when the run paused."""
        now = datetime.now(UTC)
        # Retries that fall due later are queued as a new run of the batch (``requeue``), not
        # waited for here; the limits are shared with every worker through PostgreSQL.
        controls = RunControls(
            should_stop=lambda: self.stopping, pacing=self.pacing, wait_for_retries=False
        )

        async def send(issue: Issue, scope: SendScope) -> RangeResult:
            factory = await self._factory(issue, now)
            return await send_here(
                self.engine, self.settings, issue, scope, now, controls, self.transport, factory
            )

        def requeue(connection: Connection, when: datetime) -> None:
            defer_batches(connection, [batch], schedule_at=when)

        report = await run_batch(
            self.engine, self.settings, batch.scope, now, send, requeue, lambda: self.stopping
        )
        if report.interrupted:
            log.warning(
                "batch %s: %d messages left in flight by a dead run", batch.key, report.interrupted
            )
        if report.stopped:
            raise BatchInterrupted(f"batch {batch.key} stopped with the worker; it will run again")
        if report.paused is not None:
            raise BatchPaused(report.paused)
        return {
            "sent": report.counts.sent,
            "deferred": report.counts.deferred,
            "failed": report.counts.failed,
            "skipped": report.counts.skipped,
            "unknown": report.counts.unknown + report.interrupted,
        }

    async def _factory(self, issue: Issue, now: datetime) -> MessageFactory:
        factory = self._factories.get(issue.id)
        if factory is None:
            factory = await asyncio.to_thread(
                self.make_factory, self.engine, self.settings, issue, now
            )
            self._factories = {issue.id: factory}  # one issue at a time is the usual case
        return factory


async def retry_stalled(app: App, stalled_after: float) -> int:
    """Put the running batches of workers silent for ``stalled_after`` seconds back in the queue;
    returns how many went back."""
    returned = 0
    stalled = await app.job_manager.get_stalled_jobs(
        task_name=TASK, seconds_since_heartbeat=stalled_after
    )
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except ConnectorException:
            # Another worker took it back first, or a newer run of the batch is already waiting
            # (then that run covers the range): close this one.
            await _close_if_still_stalled(app, job)
            continue
        returned += 1
        log.warning("batch %s of a dead worker is queued again", job.queueing_lock)
    if stalled:
        await app.job_manager.prune_stalled_workers(stalled_after)
    return returned


async def _close_if_still_stalled(app: App, job: Job) -> None:
    assert job.id is not None
    status = await app.job_manager.get_job_status_async(job.id)
    if status is Status.DOING:
        with contextlib.suppress(ConnectorException):
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)


async def _recover_forever(app: App, settings: Settings) -> None:
    while True:
        try:
            await retry_stalled(app, settings.queue.stalled_after_seconds)
        except ConnectorException as exc:
            log.warning("cannot look for stalled batches now: %s", exc)
        await asyncio.sleep(settings.queue.heartbeat_seconds)


def register(app: App, runner: BatchRunner, settings: Settings) -> None:
    """The batch task, bound to this process's runner."""

    @app.task(
        name=TASK,
        queue=QUEUE,
        retry=BatchRetry(max_attempts=settings.queue.max_attempts - 1, wait=2, linear_wait=5),
    )
    async def send_batch(issue_id: int, after_id: int, up_to_id: int, size: int) -> dict[str, int]:
        return await runner.run(Batch(issue_id, after_id, up_to_id, size))


async def work(
    settings: Settings,
    engine: Engine,
    *,
    name: str | None = None,
    concurrency: int | None = None,
    until_empty: bool = False,
    transport: Transport | None = None,
    make_factory: FactoryMaker = _real_factory,
) -> None:
    """Run batches until SIGTERM/SIGINT (or, with ``until_empty``, until the queue is empty).
    Beside them, the notice outbox (confirmations, welcomes ...) is drained every few seconds
    through the same relay, and once more before an ``until_empty`` worker exits.

    On a signal the batches in progress stop taking new messages, let the ones in flight finish,
    give the rest back as pending, and are queued again for another worker.
    """
    url = settings.database_url
    info = conninfo(url)
    concurrency = concurrency or settings.queue.concurrency
    app = make_app(url, max_connections=concurrency + 4)
    if transport is None:
        from digest.sending.transports.smtp import SmtpTransport

        transport = SmtpTransport(settings.smtp)
    runner = BatchRunner(
        engine,
        settings,
        app,
        transport,
        SharedPacing(
            SharedRateLimit(info, settings.sending.rate_per_second),
            SharedDomainLimiter(info, settings.sending.per_domain_connections),
        ),
        make_factory,
    )
    register(app, runner, settings)
    # Notices share the batches' transport (closed below, so the mailer itself is not closed).
    mailer = NoticeMailer(settings, transport, clock=_utc_now)
    async with app.open_async():
        recovery = asyncio.create_task(_recover_forever(app, settings))
        notices = asyncio.create_task(drain_forever(engine, mailer, settings, _utc_now))
        options: dict[str, Any] = {"name": name} if name else {}
        worker = asyncio.create_task(
            app.run_worker_async(
                **options,
                queues=[QUEUE],
                concurrency=concurrency,
                wait=not until_empty,
                install_signal_handlers=False,
                update_heartbeat_interval=settings.queue.heartbeat_seconds,
                stalled_worker_timeout=settings.queue.stalled_after_seconds,
                listen_notify=True,
            )
        )

        def stop() -> None:
            runner.stopping = True
            worker.cancel()  # procrastinate stops fetching and waits for the running batches

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop)
        try:
            await worker
            if until_empty:  # what pages queued meanwhile goes out before the worker exits
                await _cancelled(notices)
                await drain_outbox(engine, mailer, settings, _utc_now)
        except asyncio.CancelledError:
            if not runner.stopping:
                raise
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            recovery.cancel()
            await _cancelled(notices)
            await transport.close()
            await runner.pacing.close()


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has stopped."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
