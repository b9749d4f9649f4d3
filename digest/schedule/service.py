"""The scheduling service behind `digest run`: the collect and deliver jobs, one pass or forever.

Everything takes its time from ``clock`` (tests pass a fake one). A job that fails is logged and
retried: deliver at its next interval, collect after ``retry_seconds``. Stopping lets the job in
flight finish its current message and leaves the ledger consistent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from digest.ranking import embed_stored_papers, semantic_wanted, shared_encoder
from digest.schedule import queries, scheduler
from digest.schedule.collect import CollectReport, collect
from digest.schedule.deliver import DeliverReport, DigestSender, deliver
from digest.schedule.events import LOGGER, event
from digest.sending.outbox_sender import drain_through_relay
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.errors import DigestError

log = logging.getLogger(LOGGER)
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Service:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        sender: DigestSender,
        clock: Callable[[], datetime] = utc_now,
        retry_seconds: float = 300.0,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sender = sender
        self.clock = clock
        self.retry_seconds = retry_seconds
        self._stop: asyncio.Event | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._collecting = asyncio.Lock()

    @property
    def stop(self) -> asyncio.Event:
        if self._stop is None:
            self._stop = asyncio.Event()
        return self._stop

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            event(log, "service.stopping", reason=reason, jobs_in_flight=len(self._running))
            self.stop.set()

    # the two jobs, each a pass that raises on failure

    async def collect_once(self) -> CollectReport:
        now = self.clock()
        report = await asyncio.to_thread(
            collect, self.engine, self.settings.sources, now, self.stop.is_set
        )
        # Embeddings of the new papers now, so that ranking at delivery never waits for them.
        mode = self.settings.ranking.semantic
        if semantic_wanted(mode) and not self.stop.is_set():
            report.embedded = await asyncio.to_thread(
                embed_stored_papers,
                self.engine,
                lambda: shared_encoder(mode),
                None,
                self.stop.is_set,
            )
        return report

    async def deliver_once(self) -> DeliverReport:
        """One deliver pass, then the notice outbox (confirm, welcome, goodbye ...) drained by
        this same service: whatever the queue backend, the scheduler sends what pages queued."""
        report = await deliver(self.engine, self.settings, self.sender, self.clock(), self.stop)
        if not self.stop.is_set():
            await drain_through_relay(self.engine, self.settings, self.clock)
        return report

    async def run_once(self) -> tuple[CollectReport, DeliverReport]:
        """One collect and one deliver pass (`digest run --once`); errors propagate."""
        collected = await self._recorded(scheduler.COLLECT, self.collect_once, _collect_detail)
        delivered = await self._recorded(scheduler.DELIVER, self.deliver_once, _deliver_detail)
        return collected, delivered

    # the scheduled wrappers: never raise, retry later

    async def collect_job(self) -> None:
        async with self._collecting:  # taken before the first await: see deliver_job
            await self._scheduled(scheduler.COLLECT, self.collect_once, _collect_detail)

    async def deliver_job(self) -> None:
        # When both jobs fall due together (first start, after downtime), APScheduler creates
        # both tasks before either runs; yielding once lets collect take the lock, so the
        # digests are built from what it brings in.
        await asyncio.sleep(0)
        async with self._collecting:
            pass
        await self._scheduled(scheduler.DELIVER, self.deliver_once, _deliver_detail)

    async def _scheduled(
        self, job: str, run: Callable[[], Awaitable[T]], detail: Callable[[T], dict[str, Any]]
    ) -> None:
        if self.stop.is_set():
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._recorded(job, run, detail)
        except Exception as exc:
            if self.stop.is_set():
                return
            retry_at = self._next_run(job)
            if job == scheduler.COLLECT and self._scheduler is not None:
                retry_at = datetime.now(UTC) + timedelta(seconds=self.retry_seconds)
                scheduler.schedule_retry(self._scheduler, job, retry_at)
            event(
                log,
                "job.retry_later",
                logging.WARNING,
                job=job,
                retry_at=_iso(retry_at),
                error=_one_line(exc),
            )
        finally:
            if task is not None:
                self._running.discard(task)

    async def _recorded(
        self, job: str, run: Callable[[], Awaitable[T]], detail: Callable[[T], dict[str, Any]]
    ) -> T:
        """Run ``job`` and record its start and outcome in job_runs (best effort)."""
        started = time.monotonic()
        event(log, "job.started", job=job)
        await self._note(queries.job_started, job, self.clock())
        try:
            result = await run()
        except Exception as exc:
            fields = {"error": _one_line(exc)}
            level = logging.ERROR
            event(log, "job.failed", level, job=job, **fields)
            if not isinstance(exc, DigestError):
                log.exception("unexpected error in job %s", job)
            await self._note(queries.job_finished, job, self.clock(), "failed", fields)
            raise
        found = detail(result)
        seconds = round(time.monotonic() - started, 3)
        event(log, "job.finished", job=job, seconds=seconds, **found)
        await self._note(queries.job_finished, job, self.clock(), "ok", found)
        return result

    async def _note(self, record: Callable[..., None], *args: Any) -> None:
        def write() -> None:
            with transaction(self.engine) as connection:
                record(connection, *args)

        try:
            await asyncio.to_thread(write)
        except DigestError as exc:  # the job's own outcome matters more than its record
            event(log, "job.record_failed", logging.WARNING, error=exc.one_line())

    def _companion_done(self, task: asyncio.Future[None]) -> None:
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            event(log, "service.companion_failed", logging.ERROR, error=_one_line(failure))
            self.request_stop("a companion (the web server) failed")

    def _next_run(self, job: str) -> datetime | None:
        if self._scheduler is None:
            return None
        found = self._scheduler.get_job(job)
        return getattr(found, "next_run_time", None) if found is not None else None

    # forever

    async def run_forever(self, *companions: Awaitable[None]) -> None:
        """Run the scheduler (and companions such as the web server) until ``request_stop``."""
        sched = scheduler.build_scheduler(self.engine, self.settings.schedule)
        self._scheduler = sched
        scheduler.register(self)
        sched.start(paused=True)
        try:
            await asyncio.to_thread(
                scheduler.install_jobs, sched, self.settings.schedule, datetime.now(UTC)
            )
            sched.resume()
            for job in sched.get_jobs(jobstore="default"):
                event(log, "job.scheduled", job=job.id, next_run=_iso(job.next_run_time))
            event(log, "service.started", jobs=len(sched.get_jobs()))
            tasks = [asyncio.ensure_future(c) for c in companions]
            for task in tasks:
                task.add_done_callback(self._companion_done)
            await self.stop.wait()
            sched.pause()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            for task in tasks:
                await task
        finally:
            sched.shutdown(wait=False)
            scheduler.register(None)
            self._scheduler = None
            event(log, "service.stopped")


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else "none"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, DigestError):
        return exc.one_line()
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def _collect_detail(report: CollectReport) -> dict[str, Any]:
    return {
        **{k: v for k, v in asdict(report.counts).items() if k != "why_skipped"},
        "failed_sources": len(report.failed),
        **({"no_sources": True} if report.no_sources else {}),
        "embedded": report.embedded,
    }


def _deliver_detail(report: DeliverReport) -> dict[str, Any]:
    return {
        "due": report.due,
        "skipped": report.skipped,
        "issues": ",".join(report.issues) or "none",
        "stopped": report.stopped,
    }
