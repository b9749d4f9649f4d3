"""Recording a send run's outcomes: each answer becomes a ledger outcome (sent, deferred with a
backoff, failed, bounced, unknown, or given back pending), counted, fed to the error-rate breaker,
and written in small batches with its effects (the subscriber's memory, bounce suppression).
Writes deliveries (``ledger.finish``) and, through ``effects``, the memory and subscribers."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from digest.sending import effects, ledger
from digest.sending.ledger import Outcome
from digest.sending.messages import Prepared
from digest.sending.policy import CircuitBreaker, Verdict, backoff_seconds
from digest.sending.results import ProgressFn, RunCounts
from digest.sending.roundtrip import one_round_trip
from papercore.config import Settings
from papercore.db.engine import transaction

# Outcomes are written at least this often: what a crash can leave as "unknown" is bounded by
# one page, the queue and the unflushed outcomes.
FLUSH_EVERY = 32
FLUSH_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed message on its way out, with the attempts made before this one."""

    message: Prepared
    attempts: int


@dataclass
class Effects:
    """Outcomes not yet written, with what they change beyond the ledger."""

    outcomes: list[Outcome] = field(default_factory=list)
    delivered: list[tuple[int, tuple[str, ...], datetime | None]] = field(default_factory=list)
    bounced: list[tuple[int, str, str]] = field(default_factory=list)


class Recorder:
    """The outcomes, counts and pause reason of one run over one issue."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        issue_id: int,
        clock: Callable[[], datetime],
        rng: random.Random,
        on_progress: ProgressFn | None,
    ) -> None:
        self.engine = engine
        self.sending = settings.sending
        self.issue_id = issue_id
        self.clock = clock
        self.rng = rng
        self.on_progress = on_progress
        self.breaker = CircuitBreaker(
            self.sending.error_rate_threshold, self.sending.error_rate_window
        )
        self.counts = RunCounts()
        self.paused: str | None = None
        self.writing = False  # a page's (or a flush's) transaction is running in a thread
        self._writer: asyncio.Task[None] | None = None  # the flush running in the background
        self._pending = Effects()
        self._last_flush = time.monotonic()

    def pause(self, reason: str) -> None:
        """Pause the run with ``reason`` (the first reason wins)."""
        if self.paused is None:
            self.paused = reason

    def answered(self, job: Job, verdict: Verdict, reply: str) -> None:
        """Record the relay's answer to one message under the sending policy."""
        sid = job.message.subscriber_id
        attempts = job.attempts + 1
        sending = self.sending
        pending = self._pending
        if verdict is Verdict.SENT:
            pending.outcomes.append(Outcome(sid, "sent", reply))
            pending.delivered.append((sid, job.message.paper_ids, job.message.papers_as_of))
            self.counts.sent += 1
            self.counts.bytes_sent += len(job.message.data)
        elif verdict is Verdict.RETRY and attempts < sending.max_attempts:
            delay = backoff_seconds(
                attempts, sending.backoff_base_seconds, sending.backoff_max_seconds, self.rng
            )
            due = self.clock() + timedelta(seconds=delay)
            pending.outcomes.append(Outcome(sid, "deferred", reply, next_attempt_at=due))
            self.counts.deferred += 1
        elif verdict is Verdict.RETRY:
            pending.outcomes.append(
                Outcome(sid, "failed", f"gave up after {attempts} attempts: {reply}")
            )
            self.counts.failed += 1
        elif verdict is Verdict.BOUNCE:
            pending.outcomes.append(Outcome(sid, "failed", reply))
            pending.bounced.append((sid, job.message.to, reply))
            self.counts.failed += 1
            self.counts.bounced += 1
        elif verdict is Verdict.FAILED:
            pending.outcomes.append(Outcome(sid, "failed", reply))
            self.counts.failed += 1
        else:  # POLICY: not this subscriber's fault; the message waits for the run to resume
            pending.outcomes.append(Outcome(sid, "pending", reply))
            self.pause(
                f"the relay refused mail for a policy reason ({reply}); check DKIM, SPF and "
                "the sending reputation, then run `digest send --resume`"
            )
        self._count_for_breaker(verdict is not Verdict.SENT, reply)
        self.maybe_flush()

    def unknown(self, job: Job, reply: str) -> None:
        """Record a message whose outcome cannot be known (it may have arrived)."""
        self._pending.outcomes.append(Outcome(job.message.subscriber_id, "unknown", reply))
        self.counts.unknown += 1
        self._count_for_breaker(True, reply)
        self.maybe_flush()

    def stopped(self, job: Job, reason: str) -> None:
        """A claimed message whose subscriber stopped their mail before it left: skipped."""
        self.counts.skipped += 1
        self._pending.outcomes.append(
            Outcome(job.message.subscriber_id, "skipped", reason, attempted=False)
        )

    def give_back(self, job: Job) -> None:
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

    def maybe_flush(self) -> None:
        """Write the waiting outcomes when enough of them, or enough time, has gathered: in a
        thread, so the event loop keeps transmitting while the database works."""
        if self.writing:
            return  # a transaction in progress; the next flush or page takes these
        if (
            len(self._pending.outcomes) >= FLUSH_EVERY
            or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        ):
            batch = self.take()
            if not batch.outcomes:
                return
            self.writing = True
            self._writer = asyncio.get_running_loop().create_task(self._write_in_thread(batch))

    async def _write_in_thread(self, batch: Effects) -> None:
        try:
            await asyncio.to_thread(self._write_now, batch)
        finally:
            self.writing = False
        self.progress()

    def _write_now(self, batch: Effects) -> None:
        with transaction(self.engine) as connection:
            self.write(connection, batch, self.clock())

    async def idle(self) -> None:
        """Wait until no flush runs in the background (raising what it raised): the caller may
        write next."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer

    def flush(self) -> None:
        """Write every waiting outcome now (one transaction) and report progress; after
        ``idle()`` when flushes may run in the background."""
        batch = self.take()
        if batch.outcomes:
            self._write_now(batch)
        self.progress()

    def progress(self) -> None:
        """Tell the caller the counts so far."""
        if self.on_progress is not None:
            self.on_progress(self.counts)

    def take(self) -> Effects:
        """The waiting outcomes, for the caller to write; none wait afterwards."""
        batch, self._pending = self._pending, Effects()
        self._last_flush = time.monotonic()
        return batch

    def write(self, connection: Connection, batch: Effects, now: datetime) -> None:
        """Write ``batch`` in the caller's transaction: outcomes, memory, bounces."""
        with one_round_trip(connection):
            self.write_outcomes(connection, batch, now)
        self.write_bounces(connection, batch, now)

    def write_outcomes(self, connection: Connection, batch: Effects, now: datetime) -> None:
        """The outcomes and the memory of ``batch``, reading nothing back (they can join other
        writes in one round trip); ``write_bounces`` must follow in the same transaction."""
        if batch.outcomes:
            ledger.finish(connection, self.issue_id, batch.outcomes, now)
            effects.remember_delivered(connection, self.issue_id, batch.delivered, now)

    def write_bounces(self, connection: Connection, batch: Effects, now: datetime) -> None:
        """The suppressions of ``batch``'s bounced addresses (rare; these read as they write)."""
        effects.bounce(connection, batch.bounced, now)
