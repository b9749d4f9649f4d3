"""The send loop for one id range of one issue: compose, claim, transmit, record.

One producer reads subscribers by id (``READ_AHEAD`` at a time), ranks and renders each due one,
and a page at a time records the outcomes that finished and marks the page's messages
``sending`` in one transaction, then queues them; ``pool_size`` workers transmit through
the transport under the pacing limits; outcomes are written back in small batches. After the
pass, deferred messages are retried as they fall due (within ``sending.retry_wait_seconds``,
or only those already due when ``wait_for_retries`` is off). Pacing is injected (``Pacing``):
in-process limits by default, limits shared between processes for queue workers.
"""

from __future__ import annotations

import asyncio
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, Engine

from digest.issues import Issue
from digest.sending import effects, ledger
from digest.sending.ledger import Claim, Outcome
from digest.sending.messages import MessageFactory, Prepared
from digest.sending.pacing import LocalPacing, Pacing
from digest.sending.policy import CircuitBreaker, Verdict, backoff_seconds, classify
from digest.sending.transports import (
    AuthenticationFailed,
    OutcomeUnknown,
    RelayUnavailable,
    Transport,
)
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.model import Subscriber

# Outcomes are written at least this often: what a crash can leave as "unknown" is bounded by
# one page, the queue and the unflushed outcomes.
FLUSH_EVERY = 32
FLUSH_SECONDS = 0.1
# Subscribers read and screened per round of queries; messages are still claimed a page at a time.
READ_AHEAD = 256
# Why a run stopped when ``should_stop`` said so (SIGTERM, the scheduler shutting down).
SHUTDOWN = "stopped: shutdown requested"


@dataclass
class RunCounts:
    """What happened in this run (not the whole ledger)."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0  # of failed: the address was suppressed
    skipped: int = 0
    unknown: int = 0
    bytes_sent: int = 0

    def add(self, other: RunCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped + self.unknown


@dataclass
class RangeResult:
    counts: RunCounts
    paused: str | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    message: Prepared
    attempts: int  # before this one


@dataclass
class _Screened:
    due: list[tuple[Subscriber, int]] = field(default_factory=list)  # with attempts so far
    skips: list[tuple[int, str]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # no ledger row yet


@dataclass
class _Effects:
    outcomes: list[Outcome] = field(default_factory=list)
    delivered: list[tuple[int, tuple[str, ...], datetime | None]] = field(default_factory=list)
    bounced: list[tuple[int, str, str]] = field(default_factory=list)


class RangeRun:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        issue: Issue,
        transport: Transport,
        factory: MessageFactory,
        now: datetime,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        on_progress: Callable[[RunCounts], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        rng: random.Random | None = None,
        subscriber_ids: Sequence[int] | None = None,
        stop_reason: str = SHUTDOWN,
        pacing: Pacing | None = None,
        wait_for_retries: bool = True,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.issue = issue
        self.transport = transport
        self.factory = factory
        self.after_id = after_id
        self.up_to_id = up_to_id
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.stop_reason = stop_reason
        self.wait_for_retries = wait_for_retries
        # An explicit list narrows the id range to exactly these subscribers.
        self.only = None if subscriber_ids is None else sorted(set(subscriber_ids))
        self.rng = rng or random.Random()
        self._start_wall = now
        self._start = time.monotonic()
        sending = settings.sending
        self.pool = settings.smtp.pool_size
        self.page_size = max(8, 2 * self.pool)
        self.queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=self.pool)
        self.pacing: Pacing = pacing or LocalPacing.of(
            sending.rate_per_second / max(1, sending.processes), sending.per_domain_connections
        )
        self.breaker = CircuitBreaker(sending.error_rate_threshold, sending.error_rate_window)
        self.counts = RunCounts()
        self.paused: str | None = None
        self._pending = _Effects()
        self._last_flush = time.monotonic()
        self._writing = False  # a page's transaction is running in a thread

    def clock(self) -> datetime:
        return self._start_wall + timedelta(seconds=time.monotonic() - self._start)

    @property
    def stopping(self) -> bool:
        if self.paused is None and self.should_stop is not None and self.should_stop():
            self.paused = self.stop_reason
        return self.paused is not None

    def pause(self, reason: str) -> None:
        if self.paused is None:
            self.paused = reason

    async def run(self) -> RangeResult:
        workers = [asyncio.create_task(self._worker()) for _ in range(self.pool)]
        try:
            await self._first_pass()
            await self._retries()
        finally:
            for _ in workers:
                await self.queue.put(None)
            await asyncio.gather(*workers)
            self._flush()
        return RangeResult(self.counts, self.paused)

    # producing

    async def _first_pass(self) -> None:
        last = self.after_id
        while not self.stopping:
            with self.engine.connect() as connection:
                found = self._next_page(connection, last, READ_AHEAD)
                if found is None:
                    return
                last, block = found
                screened = self._screen(connection, block, fresh_only=True)
            await self._compose_and_dispatch(screened)

    def _next_page(
        self, connection: Connection, last: int, size: int
    ) -> tuple[int, list[Subscriber]] | None:
        """The next ``size`` subscribers after id ``last`` (and the id to continue after)."""
        if self.only is None:
            page = list(
                islice(
                    store.iter_subscribers(
                        connection, batch=size, after_id=last, up_to_id=self.up_to_id
                    ),
                    size,
                )
            )
            return (page[-1].id, page) if page else None
        start = bisect_right(self.only, last)
        chunk = [
            sid
            for sid in self.only[start : start + size]
            if self.up_to_id is None or sid <= self.up_to_id
        ]
        if not chunk:
            return None
        wanted = set(chunk)
        people = store.iter_subscribers(
            connection, batch=size, after_id=chunk[0] - 1, up_to_id=chunk[-1]
        )
        return chunk[-1], [s for s in people if s.id in wanted]

    async def _retries(self) -> None:
        # Without waiting, only retries already due are sent; later ones are left deferred.
        wait_limit = self.settings.sending.retry_wait_seconds if self.wait_for_retries else 0.0
        while not self.stopping:
            with self.engine.connect() as connection:
                due = ledger.due_retries(
                    connection,
                    self.issue.id,
                    self.clock(),
                    self.after_id,
                    self.up_to_id,
                    subscriber_ids=self.only,
                )
                if due:
                    page = [store.get(connection, sid) for sid in due]
                    screened = self._screen(connection, page, fresh_only=False)
            if due:
                await self._compose_and_dispatch(screened)
                continue
            await self.queue.join()
            self._flush()
            with self.engine.connect() as connection:
                if ledger.due_retries(
                    connection,
                    self.issue.id,
                    self.clock(),
                    self.after_id,
                    self.up_to_id,
                    1,
                    subscriber_ids=self.only,
                ):
                    continue
                upcoming = ledger.next_retry_at(
                    connection, self.issue.id, self.after_id, self.up_to_id, self.only
                )
            if upcoming is None:
                return
            wait = (upcoming - self.clock()).total_seconds()
            if wait > wait_limit:
                return
            await asyncio.sleep(max(0.0, wait))

    def _screen(
        self, connection: Connection, page: Sequence[Subscriber], *, fresh_only: bool
    ) -> _Screened:
        """Which subscribers of the page are due a message now, which are skipped (and why)."""
        rows = ledger.states(connection, self.issue.id, [s.id for s in page])
        suppressed = ledger.suppressed_addresses(connection, [s.email for s in page])
        prefetch = getattr(self.factory, "prefetch", None)  # optional: page-sized memory reads
        if prefetch is not None:
            prefetch(connection, [s.id for s in page])
        now = self.clock()
        screened = _Screened()
        for subscriber in page:
            row = rows.get(subscriber.id)
            if row is None:
                if subscriber.frequency != self.issue.frequency:
                    continue
                screened.missing.append(subscriber.id)
                attempts = 0
            elif row.status == "pending" or (
                row.status == "deferred"
                and not fresh_only
                and (row.next_attempt_at is None or row.next_attempt_at <= now)
            ):
                attempts = row.attempts
            else:
                continue
            if subscriber.status != "active":
                screened.skips.append((subscriber.id, f"subscriber is {subscriber.status}"))
            elif subscriber.email in suppressed:
                screened.skips.append((subscriber.id, "the address is on the suppression list"))
            else:
                screened.due.append((subscriber, attempts))
        return screened

    async def _compose_and_dispatch(self, screened: _Screened) -> None:
        """Compose the screened subscribers' messages and claim and queue them a page at a
        time (the in-flight window stays one page, however far ahead subscribers are read)."""
        skips, missing = screened.skips, screened.missing
        due = screened.due
        for start in range(0, max(1, len(due)), self.page_size):
            if start and self.stopping:
                return  # the rest stay pending for the next run
            jobs: list[_Job] = []
            with self.engine.connect() as connection:
                for subscriber, attempts in due[start : start + self.page_size]:
                    message = self.factory.compose(connection, subscriber)
                    if message is None:
                        skips.append((subscriber.id, "no new papers match this subscriber"))
                    else:
                        jobs.append(_Job(message, attempts))
            await self._dispatch(jobs, skips, missing)
            skips, missing = [], []

    async def _dispatch(
        self, jobs: list[_Job], skips: list[tuple[int, str]], missing: list[int]
    ) -> None:
        now = self.clock()
        done = self._take_effects()
        claims = [
            Claim(
                j.message.subscriber_id,
                j.message.message_id,
                j.message.paper_ids,
                len(j.message.data),
            )
            for j in jobs
        ]
        # The page's transaction runs in a thread so the messages in flight keep moving while
        # the database works; the loop writes nothing meanwhile (``_maybe_flush`` waits).
        self._writing = True
        try:
            claimed = await asyncio.to_thread(
                self._record_and_claim, done, missing, skips, claims, now
            )
        finally:
            self._writing = False
        self.counts.skipped += len(skips)
        if self.on_progress is not None:
            self.on_progress(self.counts)
        for job in jobs:
            if job.message.subscriber_id in claimed:  # else another runner has it
                await self.queue.put(job)

    def _record_and_claim(
        self,
        done: _Effects,
        missing: list[int],
        skips: list[tuple[int, str]],
        claims: list[Claim],
        now: datetime,
    ) -> set[int]:
        with transaction(self.engine) as connection:
            # outcomes first: one transaction per page records what finished and claims more
            self._write_effects(connection, done, now)
            ledger.add_pending(connection, self.issue.id, missing, now)
            ledger.skip(connection, self.issue.id, skips, now)
            return ledger.claim(connection, self.issue.id, claims, now)

    # transmitting

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                if job is None:
                    return
                if self.stopping:
                    self._give_back(job)
                else:
                    await self._transmit(job)
            finally:
                self.queue.task_done()

    async def _transmit(self, job: _Job) -> None:
        message = job.message
        await self.pacing.acquire()
        async with self.pacing.slot(message.to):
            if self.stopping:
                self._give_back(job)
                return
            try:
                reply = await self.transport.send(self.factory.sender, message.to, message.data)
            except RelayUnavailable as exc:
                self._settle(job, Verdict.RETRY, exc.one_line())
            except OutcomeUnknown as exc:
                self._unknown(job, exc.one_line())
            except AuthenticationFailed as exc:
                self.pause(exc.one_line())
                self._give_back(job)
            else:
                self._settle(job, classify(reply), str(reply))

    # recording

    def _settle(self, job: _Job, verdict: Verdict, reply: str) -> None:
        sid = job.message.subscriber_id
        attempts = job.attempts + 1
        sending = self.settings.sending
        effects_ = self._pending
        if verdict is Verdict.SENT:
            effects_.outcomes.append(Outcome(sid, "sent", reply))
            effects_.delivered.append((sid, job.message.paper_ids, job.message.papers_as_of))
            self.counts.sent += 1
            self.counts.bytes_sent += len(job.message.data)
        elif verdict is Verdict.RETRY and attempts < sending.max_attempts:
            delay = backoff_seconds(
                attempts, sending.backoff_base_seconds, sending.backoff_max_seconds, self.rng
            )
            due = self.clock() + timedelta(seconds=delay)
            effects_.outcomes.append(Outcome(sid, "deferred", reply, next_attempt_at=due))
            self.counts.deferred += 1
        elif verdict is Verdict.RETRY:
            effects_.outcomes.append(
                Outcome(sid, "failed", f"gave up after {attempts} attempts: {reply}")
            )
            self.counts.failed += 1
        elif verdict is Verdict.BOUNCE:
            effects_.outcomes.append(Outcome(sid, "failed", reply))
            effects_.bounced.append((sid, job.message.to, reply))
            self.counts.failed += 1
            self.counts.bounced += 1
        elif verdict is Verdict.FAILED:
            effects_.outcomes.append(Outcome(sid, "failed", reply))
            self.counts.failed += 1
        else:  # POLICY: not this subscriber's fault; the message waits for the run to resume
            effects_.outcomes.append(Outcome(sid, "pending", reply))
            self.pause(
                f"the relay refused mail for a policy reason ({reply}); check DKIM, SPF and "
                "the sending reputation, then run `digest send --resume`"
            )
        self._count_for_breaker(verdict is not Verdict.SENT, reply)
        self._maybe_flush()

    def _unknown(self, job: _Job, reply: str) -> None:
        self._pending.outcomes.append(Outcome(job.message.subscriber_id, "unknown", reply))
        self.counts.unknown += 1
        self._count_for_breaker(True, reply)
        self._maybe_flush()

    def _give_back(self, job: _Job) -> None:
        """A claimed message that never left goes back to pending, its attempts untouched."""
        self._pending.outcomes.append(
            Outcome(job.message.subscriber_id, "pending", "", attempted=False)
        )

    def _count_for_breaker(self, error: bool, reply: str) -> None:
        if self.breaker.record(error) and self.paused is None:
            self.pause(
                f"{self.breaker.rate:.0%} of the last {self.breaker.window} messages failed "
                f"(threshold {self.breaker.threshold:.0%}); last reply: {reply}"
            )

    def _maybe_flush(self) -> None:
        if self._writing:
            return  # the page transaction in progress; the next flush or page takes these
        if (
            len(self._pending.outcomes) >= FLUSH_EVERY
            or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        ):
            self._flush()

    def _flush(self) -> None:
        batch = self._take_effects()
        if batch.outcomes:
            with transaction(self.engine) as connection:
                self._write_effects(connection, batch, self.clock())
        if self.on_progress is not None:
            self.on_progress(self.counts)

    def _take_effects(self) -> _Effects:
        batch, self._pending = self._pending, _Effects()
        self._last_flush = time.monotonic()
        return batch

    def _write_effects(self, connection: Connection, batch: _Effects, now: datetime) -> None:
        if batch.outcomes:
            ledger.finish(connection, self.issue.id, batch.outcomes, now)
            effects.remember_delivered(connection, self.issue.id, batch.delivered, now)
            effects.bounce(connection, batch.bounced, now)


async def send_range(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    transport: Transport,
    factory: MessageFactory,
    now: datetime,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    on_progress: Callable[[RunCounts], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    subscriber_ids: Sequence[int] | None = None,
    stop_reason: str = SHUTDOWN,
    pacing: Pacing | None = None,
    wait_for_retries: bool = True,
) -> RangeResult:
    """Send the issue to the subscribers with ids in (after_id, up_to_id] (and, when given,
    among ``subscriber_ids``) that are due, and record every outcome. Safe to repeat: rows
    already settled are left alone. When ``should_stop()`` turns true the run stops taking new
    messages and pauses with ``stop_reason``. ``pacing`` replaces the in-process limits (rate
    ``sending.rate_per_second / sending.processes``, ``sending.per_domain_connections``);
    without ``wait_for_retries`` the run returns once nothing is due now instead of waiting up to
    ``sending.retry_wait_seconds`` for deferred messages. The issue's status is the caller's."""
    run = RangeRun(
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
        pacing=pacing,
        wait_for_retries=wait_for_retries,
    )
    return await run.run()
