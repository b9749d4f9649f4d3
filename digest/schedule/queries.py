"""The scheduler's own SQL: job runs and the APScheduler job store (papers are
``digest.paper_store``'s, deliveries ``digest.sending.ledger``'s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    MetaData,
    String,
    Table,
    insert,
    inspect,
    select,
    update,
)

from papercore.db.schema import job_runs
from papercore.papers import utc

JOBSTORE_TABLE = "apscheduler_jobs"
_jobstore = Table(
    JOBSTORE_TABLE,
    MetaData(),
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25)),
)


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running | ok | failed
    detail: dict[str, Any]
    runs: int


def job_started(connection: Connection, job: str, now: datetime) -> None:
    values = {"started_at": now, "finished_at": None, "outcome": "running"}
    done = connection.execute(
        update(job_runs).where(job_runs.c.job == job).values(runs=job_runs.c.runs + 1, **values)
    )
    if not done.rowcount:
        connection.execute(insert(job_runs).values(job=job, detail={}, runs=1, **values))


def job_finished(
    connection: Connection, job: str, now: datetime, outcome: str, detail: dict[str, Any]
) -> None:
    connection.execute(
        update(job_runs)
        .where(job_runs.c.job == job)
        .values(finished_at=now, outcome=outcome, detail=detail)
    )


def job_runs_by_name(connection: Connection) -> dict[str, JobRun]:
    return {
        row.job: JobRun(
            job=row.job,
            started_at=utc(row.started_at),
            finished_at=utc(row.finished_at) if row.finished_at else None,
            outcome=row.outcome,
            detail=dict(row.detail or {}),
            runs=int(row.runs),
        )
        for row in connection.execute(select(job_runs))
    }


def scheduled_next_runs(connection: Connection) -> dict[str, datetime | None]:
    """Next run of each job as APScheduler persisted it (empty before the first `digest run`)."""
    if not inspect(connection).has_table(JOBSTORE_TABLE):
        return {}
    rows = connection.execute(select(_jobstore.c.id, _jobstore.c.next_run_time))
    return {
        row.id: None
        if row.next_run_time is None
        else datetime.fromtimestamp(row.next_run_time, UTC)
        for row in rows
    }

