"""The scheduler's sender for the procrastinate backend: hand subscribers over as batch jobs.

For one handed-over group of subscribers, a single database transaction opens the issue, gives
each of them a pending ledger row, and queues the batch jobs that will send those rows. Either all
of it is committed or none: a scheduler that dies mid-pass leaves no pending row without a job
and no job without its rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from procrastinate import SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from sqlalchemy import Connection, Engine, text

from digest.personal import IssueDigests
from digest.queue.batches import QUEUE, TASK, Batch, cut
from digest.schedule.deliver import IdSpan
from digest.schedule.due import IssueKey
from digest.sending import ledger, lifecycle
from digest.sending.scope import SendScope
from papercore.db.engine import transaction

# Defers only ever run on the caller's connection, so this connector never opens a pool of its own.
_JOBS = JobManager(SyncPsycopgConnector())

_QUEUED = text(
    "SELECT queueing_lock FROM procrastinate_jobs "
    "WHERE queueing_lock = ANY(:keys) AND status = 'todo' FOR UPDATE"
)


def defer_batches(
    connection: Connection, batches: Sequence[Batch], schedule_at: datetime | None = None
) -> list[Batch]:
    """Queue a job for each batch that has none waiting, inside the caller's transaction.

    A batch whose job is already waiting is not queued again; that job's row is locked until the
    caller commits, so no worker can start it before the caller's ledger rows are visible.
    Returns the batches newly queued.
    """
    wanted = {b.key: b for b in batches}
    while True:
        waiting = set(connection.execute(_QUEUED, {"keys": list(wanted)}).scalars())
        fresh = [b for key, b in wanted.items() if key not in waiting]
        if not fresh:
            return []
        try:
            with connection.begin_nested():
                _JOBS.batch_defer_jobs(
                    jobs=[_job(b, schedule_at) for b in fresh], connection=_driver(connection)
                )
        except AlreadyEnqueued:  # another scheduler queued one meanwhile: look again
            continue
        return fresh


def _job(batch: Batch, schedule_at: datetime | None) -> Job:
    return Job(
        scheduled_at=schedule_at,
        queue=QUEUE,
        task_name=TASK,
        lock=batch.lock,
        queueing_lock=batch.key,
        task_kwargs=batch.task_kwargs(),
    )


def _driver(connection: Connection) -> Any:
    """The psycopg connection under SQLAlchemy's, in the same transaction."""
    return connection.connection.driver_connection


def hand_over(
    engine: Engine,
    issue: IssueKey,
    ranges: Sequence[IdSpan],
    batch_size: int,
    now: datetime,
) -> list[Batch]:
    """Open the issue, give every subscriber of its frequency in the id ranges (after_id,
    up_to_id] a pending row, and queue the batches that send them, all in one transaction. Rows
    that exist already are left as they are (never re-sent). Returns the batches newly queued."""
    with transaction(engine) as connection:
        opened = lifecycle.open_in(connection, issue.issue_date, issue.frequency, now)
        for after_id, up_to_id in ranges:
            scope = SendScope(opened.id, after_id, up_to_id)
            ledger.seed_pending(connection, scope, opened.frequency, now)
        return defer_batches(connection, cut(opened.id, ranges, batch_size))


# Finished batch jobs are kept this long after their last event (for `digest status` and
# post-mortems; the ledger is the record of what was sent), then deleted with their events.
_PRUNE = text(
    "DELETE FROM procrastinate_jobs WHERE id IN ("
    " SELECT job.id FROM procrastinate_jobs job"
    " JOIN procrastinate_events event ON event.job_id = job.id"
    " WHERE job.queue_name = :queue"
    " AND job.status IN ('succeeded', 'failed', 'cancelled', 'aborted')"
    " GROUP BY job.id HAVING max(event.at) < :before)"
)
PRUNE_EVERY = timedelta(hours=1)


def prune_finished_jobs(engine: Engine, keep: timedelta, now: datetime) -> int:
    """Delete our finished batch jobs whose last event is older than ``keep``; how many."""
    with transaction(engine) as connection:
        result = connection.execute(_PRUNE, {"queue": QUEUE, "before": now - keep})
        return int(result.rowcount or 0)


def record_skips(
    engine: Engine, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
) -> None:
    """Skipped rows (with why) for subscribers who get nothing from this issue."""
    with transaction(engine) as connection:
        opened = lifecycle.open_in(connection, issue.issue_date, issue.frequency, now)
        _seed(connection, opened.id, subscriber_ids, now)
        found = ledger.states(connection, opened.id, subscriber_ids)
        ledger.skip(
            connection,
            opened.id,
            [(sid, reason) for sid in subscriber_ids if found[sid].status == "pending"],
            now,
        )


def _seed(
    connection: Connection, issue_id: int, subscriber_ids: Sequence[int], now: datetime
) -> None:
    known = ledger.states(connection, issue_id, subscriber_ids)
    ledger.add_pending(connection, issue_id, [s for s in subscriber_ids if s not in known], now)


class QueueSender:
    """The deliver job's sender (``digest.schedule.deliver.DigestSender``) for this backend."""

    def __init__(self, engine: Engine, batch_size: int, keep_finished: timedelta) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.keep_finished = keep_finished
        self._pruned_at: datetime | None = None

    async def close(self) -> None:
        """Nothing to release: jobs are written on the scheduler's own connections."""

    async def send(
        self,
        issue: IssueKey,
        ranges: Sequence[IdSpan],
        now: datetime,
        should_stop: Callable[[], bool],
        subscriber_ids: Sequence[int] | None = None,  # batches are keyed by the ranges
        digests: IssueDigests | None = None,  # the workers rank in their own processes
    ) -> None:
        """Queue the issue for the subscribers of these ranges (returns once committed)."""
        if should_stop():
            return
        await asyncio.to_thread(hand_over, self.engine, issue, ranges, self.batch_size, now)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            await asyncio.to_thread(prune_finished_jobs, self.engine, self.keep_finished, now)
            self._pruned_at = now

    async def skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        await asyncio.to_thread(record_skips, self.engine, issue, subscriber_ids, reason, now)
