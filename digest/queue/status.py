"""What the queue is doing: workers seen and batches queued / running / done / failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from digest.queue.batches import TASK

# procrastinate's job statuses, as an operator reads them.
BATCH_STATES = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "done",
    "failed": "failed",
    "cancelled": "failed",
    "aborted": "failed",
    "aborting": "running",
}


@dataclass(frozen=True, slots=True)
class WorkerSeen:
    id: int
    last_heartbeat: datetime
    alive: bool  # heard from within ``stalled_after_seconds``


@dataclass
class QueueStatus:
    workers: list[WorkerSeen] = field(default_factory=list)
    batches: dict[str, int] = field(
        default_factory=lambda: {"queued": 0, "running": 0, "done": 0, "failed": 0}
    )

    @property
    def alive(self) -> int:
        return sum(1 for w in self.workers if w.alive)


def queue_status(engine: Engine, stalled_after_seconds: float) -> QueueStatus | None:
    """The queue's state, or None when procrastinate's schema is not in the database."""
    found = QueueStatus()
    try:
        with engine.connect() as connection:
            if (
                connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
                is None
            ):
                return None
            rows = connection.execute(
                text(
                    "SELECT id, last_heartbeat, "
                    "last_heartbeat >= NOW() - make_interval(secs => :stalled) AS alive "
                    "FROM procrastinate_workers ORDER BY id"
                ),
                {"stalled": stalled_after_seconds},
            )
            found.workers = [WorkerSeen(r.id, r.last_heartbeat, bool(r.alive)) for r in rows]
            for status, n in connection.execute(
                text(
                    "SELECT status::text, count(*) FROM procrastinate_jobs "
                    "WHERE task_name = :task GROUP BY status"
                ),
                {"task": TASK},
            ):
                state = BATCH_STATES.get(status, status)
                found.batches[state] = found.batches.get(state, 0) + int(n)
    except SQLAlchemyError:
        return None
    return found


def describe(status: QueueStatus | None) -> list[tuple[str, str]]:
    """Lines for ``digest status``: (what, value)."""
    if status is None:
        return [("queue", "procrastinate schema missing: run `digest init`")]
    b = status.batches
    stalled = len(status.workers) - status.alive
    workers = f"{status.alive} alive" + (f", {stalled} silent" if stalled else "")
    return [
        ("workers seen", workers),
        (
            "batches",
            f"{b['queued']} queued, {b['running']} running, {b['done']} done, {b['failed']} failed",
        ),
    ]
