"""The send loop for one scope of one issue: read, screen, compose, claim, transmit.

One producer reads subscribers by id (``READ_AHEAD`` at a time), ranks and renders each due one,
and a page at a time records the outcomes that finished and marks the page's messages
``sending`` in one transaction, then queues them; ``pool_size`` workers transmit through
the transport under the pacing limits; outcomes are written back in small batches (``Recorder``).
After the pass, deferred messages are retried as they fall due (within
``sending.retry_wait_seconds``, or only those already due when ``wait_for_retries`` is off).
Pacing is injected (``Pacing``): in-process limits by default, limits shared between processes
for queue workers. Reads subscribers and suppressions (``subscribers.store``) and deliveries;
writes deliveries. The issue's status is not touched here (``lifecycle``'s).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, Engine

from digest.issues import Issue
from digest.sending import ledger
from digest.sending.ledger import Claim
from digest.sending.messages import MessageFactory
from digest.sending.pacing import LocalPacing, Pacing
from digest.sending.policy import Verdict, classify
from digest.sending.recheck import StatusRecheck
from digest.sending.recorder import Effects, Job, Recorder
from digest.sending.results import RangeResult, RunControls
from digest.sending.roundtrip import one_round_trip
from digest.sending.scope import SendScope
from digest.sending.transports import (
    AuthenticationFailed,
    OutcomeUnknown,
    RelayUnavailable,
    Transport,
)
from digest.sending.verp import Verp
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.model import Subscriber

# Subscribers read and screened per round of queries; messages are still claimed a page at a time.
READ_AHEAD = 256


@dataclass
class _Screened:
    due: list[tuple[Subscriber, int]] = field(default_factory=list)  # with attempts so far
    skips: list[tuple[int, str]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # no ledger row yet


class RangeRun:
    """One pass over a scope: see ``send_range``."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        issue: Issue,
        scope: SendScope,
        transport: Transport,
        factory: MessageFactory,
        now: datetime,
        controls: RunControls,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.issue = issue
        self.scope = scope
        self.transport = transport
        self.factory = factory
        self.controls = controls
        self._start_wall = now
        self._start = time.monotonic()
        sending = settings.sending
        self.pool = settings.smtp.pool_size
        self.page_size = max(8, 2 * self.pool)
        self.queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=self.pool)
        # This process's share of the global rate: the sender fixes ``processes`` to the number
        # it started ("auto" here means nobody resolved it: this process sends alone).
        share = sending.processes if isinstance(sending.processes, int) else 1
        self.pacing: Pacing = controls.pacing or LocalPacing.of(
            sending.rate_per_second / share, sending.per_domain_connections
        )
        self.recorder = Recorder(
            engine, settings, issue.id, self.clock, controls.rng, controls.on_progress
        )
        self.verp = Verp.from_settings(settings)  # None: the envelope sender is the From address
        self.recheck = StatusRecheck(engine)

    def clock(self) -> datetime:
        return self._start_wall + timedelta(seconds=time.monotonic() - self._start)

    @property
    def stopping(self) -> bool:
        should_stop = self.controls.should_stop
        if self.recorder.paused is None and should_stop is not None and should_stop():
            self.recorder.pause(self.controls.stop_reason)
        return self.recorder.paused is not None

    async def run(self) -> RangeResult:
        workers = [asyncio.create_task(self._worker()) for _ in range(self.pool)]
        try:
            await self._first_pass()
            await self._retries()
        finally:
            for _ in workers:
                await self.queue.put(None)
            await asyncio.gather(*workers)
            await self.recorder.idle()
            self.recorder.flush()
        return RangeResult(self.recorder.counts, self.recorder.paused)

    # producing

    async def _first_pass(self) -> None:
        last = self.scope.after_id
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
        only, up_to_id = self.scope.subscriber_ids, self.scope.up_to_id
        if only is None:
            page = list(
                islice(
                    store.iter_subscribers(
                        connection, batch=size, after_id=last, up_to_id=up_to_id
                    ),
                    size,
                )
            )
            return (page[-1].id, page) if page else None
        start = bisect_right(only, last)
        chunk = [sid for sid in only[start : start + size] if up_to_id is None or sid <= up_to_id]
        if not chunk:
            return None
        wanted = set(chunk)
        people = store.iter_subscribers(
            connection, batch=size, after_id=chunk[0] - 1, up_to_id=chunk[-1]
        )
        return chunk[-1], [s for s in people if s.id in wanted]

    async def _retries(self) -> None:
        # Without waiting, only retries already due are sent; later ones are left deferred.
        wait_limit = (
            self.settings.sending.retry_wait_seconds if self.controls.wait_for_retries else 0.0
        )
        while not self.stopping:
            with self.engine.connect() as connection:
                due = ledger.due_retries(connection, self.scope, self.clock())
                if due:
                    page = [store.get(connection, sid) for sid in due]
                    screened = self._screen(connection, page, fresh_only=False)
            if due:
                await self._compose_and_dispatch(screened)
                continue
            await self.queue.join()
            await self.recorder.idle()
            self.recorder.flush()
            with self.engine.connect() as connection:
                if ledger.due_retries(connection, self.scope, self.clock(), 1):
                    continue
                upcoming = ledger.next_retry_at(connection, self.scope)
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
        suppressed = store.suppressed_among(connection, [s.email for s in page])
        prefetch = getattr(self.factory, "prefetch", None)  # optional: page-sized reads
        if prefetch is not None:
            prefetch(connection, page)
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
        # A page is composed while the previous one's claim runs in its thread (composing has
        # no effects, so nothing changes for a crash: a message is still claimed before it goes).
        claiming: asyncio.Task[None] | None = None
        try:
            for start in range(0, max(1, len(due)), self.page_size):
                if start and self.stopping:
                    return  # the rest stay pending for the next run
                jobs: list[Job] = []
                with self.engine.connect() as connection:
                    for subscriber, attempts in due[start : start + self.page_size]:
                        message = self.factory.compose(connection, subscriber)
                        if message is None:
                            skips.append((subscriber.id, self.factory.why_none(subscriber)))
                        else:
                            jobs.append(Job(message, attempts))
                if claiming is not None:
                    await claiming
                claiming = asyncio.ensure_future(self._dispatch(jobs, skips, missing))
                skips, missing = [], []
        finally:
            if claiming is not None:
                await claiming

    async def _dispatch(
        self, jobs: list[Job], skips: list[tuple[int, str]], missing: list[int]
    ) -> None:
        await self.recorder.idle()  # one writer at a time: a background flush finishes first
        now = self.clock()
        done = self.recorder.take()
        claims = [
            Claim(
                j.message.subscriber_id,
                j.message.message_id,
                j.message.paper_ids,
                len(j.message.data),
                j.message.layout,
            )
            for j in jobs
        ]
        # The page's transaction runs in a thread so the messages in flight keep moving while
        # the database works; the loop writes nothing meanwhile (``maybe_flush`` waits).
        self.recorder.writing = True
        try:
            claimed, departed = await asyncio.to_thread(
                self._record_and_claim, done, missing, skips, claims, now
            )
        finally:
            self.recorder.writing = False
        self.recorder.counts.skipped += len(skips) + len(departed)
        self.recheck.claimed(claimed)
        self.recorder.progress()
        for job in jobs:
            if job.message.subscriber_id in claimed:  # else another runner has it
                await self.queue.put(job)

    def _record_and_claim(
        self,
        done: Effects,
        missing: list[int],
        skips: list[tuple[int, str]],
        claims: list[Claim],
        now: datetime,
    ) -> tuple[set[int], set[int]]:
        """(claimed, departed): the page's messages claimed, and those skipped because their
        subscriber is no longer active; checked in the claiming transaction, after composing,
        so the status is read as close to the send as the claim can be."""
        with transaction(self.engine) as connection:
            # One transaction per page records what finished and claims more; everything but
            # the claim's answer travels in one round trip, then the claim, then the commit.
            with one_round_trip(connection):
                self.recorder.write_outcomes(connection, done, now)
                ledger.add_pending(connection, self.issue.id, missing, now)
                ledger.skip(connection, self.issue.id, skips, now)
                ledger.describe_claims(connection, self.issue.id, claims, now)
            self.recorder.write_bounces(connection, done, now)
            wanted = [c.subscriber_id for c in claims]
            departed = ledger.skip_departed(connection, self.issue.id, wanted, now)
            return ledger.take_claims(connection, self.issue.id, claims, now), departed

    # transmitting

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                if job is None:
                    return
                if self.stopping:
                    self.recorder.give_back(job)
                else:
                    await self._transmit(job)
            finally:
                self.queue.task_done()

    async def _transmit(self, job: Job) -> None:
        message = job.message
        await self.pacing.acquire()
        async with self.pacing.slot(message.to):
            if self.stopping:
                self.recorder.give_back(job)
                return
            if not await self.recheck.still_wanted(message.subscriber_id):
                self.recorder.stopped(job, ledger.DEPARTED)
                return
            try:
                reply = await self.transport.send(
                    self._envelope_sender(message.subscriber_id), message.to, message.data
                )
            except RelayUnavailable as exc:
                self.recorder.answered(job, Verdict.RETRY, exc.one_line())
            except OutcomeUnknown as exc:
                self.recorder.unknown(job, exc.one_line())
            except AuthenticationFailed as exc:
                self.recorder.pause(exc.one_line())
                self.recorder.give_back(job)
            else:
                self.recorder.answered(job, classify(reply), str(reply))

    def _envelope_sender(self, subscriber_id: int) -> str:
        if self.verp is None:
            return self.factory.sender
        return self.verp.envelope_sender(self.issue.id, subscriber_id)


async def send_range(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    scope: SendScope,
    transport: Transport,
    factory: MessageFactory,
    now: datetime,
    controls: RunControls | None = None,
) -> RangeResult:
    """Send the issue to the subscribers of ``scope`` that are due, and record every outcome.
    Safe to repeat: rows already settled are left alone. ``controls`` stop it, report progress,
    pace it and say whether to wait for retries (``RunControls``). Without ``controls.pacing`` the
    limits are in-process: rate ``sending.rate_per_second / sending.processes``,
    ``sending.per_domain_connections``. The issue's status is the caller's."""
    run = RangeRun(
        engine, settings, issue, scope, transport, factory, now, controls or RunControls()
    )
    return await run.run()
