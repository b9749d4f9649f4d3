"""The scheduler's SQL: what the ledger says about due slots, job runs, status figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    update,
)

from digest.schedule.due import IssueKey, Slot
from digest.sending import ledger
from papercore.db.schema import deliveries, issues, job_runs, papers
from papercore.papers import utc

# Finished for this issue: the subscriber is not handed over again (pending/deferred/sending are).
FINISHED = ("sent", "failed", "skipped", "unknown")
JOBSTORE_TABLE = "apscheduler_jobs"
_jobstore = Table(
    JOBSTORE_TABLE,
    MetaData(),
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25)),
)


def finished_slots(connection: Connection, slots: Sequence[Slot]) -> set[tuple[IssueKey, int]]:
    """The (issue, subscriber) pairs among ``slots`` whose delivery is finished in the ledger."""
    if not slots:
        return set()
    dates = {s.issue.issue_date for s in slots}
    ids = [s.subscriber_id for s in slots]
    rows = connection.execute(
        select(issues.c.issue_date, issues.c.frequency, deliveries.c.subscriber_id)
        .join(deliveries, deliveries.c.issue_id == issues.c.id)
        .where(
            issues.c.issue_date.in_(dates),
            deliveries.c.subscriber_id.in_(ids),
            deliveries.c.status.in_(FINISHED),
        )
    )
    return {(IssueKey(r.issue_date, r.frequency), int(r.subscriber_id)) for r in rows}


def newest_first_seen(connection: Connection) -> datetime | None:
    found = connection.execute(select(func.max(papers.c.first_seen))).scalar_one_or_none()
    return utc(found) if found else None


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


def papers_first_seen_since(connection: Connection, since: datetime) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(papers).where(papers.c.first_seen >= since)
        ).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class IssueFigures:
    id: int
    issue_date: date
    frequency: str
    status: str
    deliveries: dict[str, int]


def recent_issues(connection: Connection, limit: int = 3) -> list[IssueFigures]:
    """The newest issues with their deliveries counted by status."""
    found = connection.execute(select(issues).order_by(issues.c.id.desc()).limit(limit)).all()
    result = []
    for row in found:
        figures = ledger.counts(connection, int(row.id))
        result.append(IssueFigures(int(row.id), row.issue_date, row.frequency, row.status, figures))
    return result
