"""APScheduler 3 wiring: the collect and deliver jobs in a persistent job store in our database.

Jobs in a persistent store must be importable functions with picklable arguments, so they are
these module-level coroutines, which call the running ``Service`` registered here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from digest.schedule.queries import JOBSTORE_TABLE
from papercore.config import ScheduleSettings
from papercore.errors import ConfigError

if TYPE_CHECKING:
    from digest.schedule.service import Service

COLLECT = "collect"
DELIVER = "deliver"
JOBS = (COLLECT, DELIVER)
_service: Service | None = None


def register(service: Service | None) -> None:
    """Make ``service`` the one the persisted jobs run against (None when it stops)."""
    global _service
    _service = service


async def run_collect() -> None:
    if _service is not None:
        await _service.collect_job()


async def run_deliver() -> None:
    if _service is not None:
        await _service.deliver_job()


def collect_trigger(schedule: ScheduleSettings) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(schedule.collect_cron, timezone=UTC)
    except ValueError as exc:
        raise ConfigError([f"schedule.collect_cron: {exc}"]) from exc


def deliver_trigger(schedule: ScheduleSettings) -> IntervalTrigger:
    if schedule.deliver_every_seconds > 0:
        return IntervalTrigger(seconds=schedule.deliver_every_seconds, timezone=UTC)
    return IntervalTrigger(minutes=schedule.deliver_every_minutes, timezone=UTC)


def triggers(schedule: ScheduleSettings) -> dict[str, BaseTrigger]:
    return {COLLECT: collect_trigger(schedule), DELIVER: deliver_trigger(schedule)}


def next_fire(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """When ``trigger`` fires next after ``now`` (for `digest status` before the first run)."""
    found = trigger.get_next_fire_time(None, now)
    return found.astimezone(UTC) if found else None


def build_scheduler(engine: Engine, schedule: ScheduleSettings) -> AsyncIOScheduler:
    """A scheduler whose jobs persist in ``apscheduler_jobs`` (created by the job store itself),
    coalescing missed runs into one and running each job at most once at a time."""
    return AsyncIOScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE),
            "memory": MemoryJobStore(),
        },
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": schedule.misfire_grace_hours * 3600,
        },
        timezone=UTC,
    )


def install_jobs(scheduler: AsyncIOScheduler, schedule: ScheduleSettings, now: datetime) -> None:
    """Add the jobs, keeping a persisted job (and so its pending, possibly missed, run) when its
    trigger is unchanged. A job added for the first time runs at once."""
    functions = {COLLECT: run_collect, DELIVER: run_deliver}
    for job_id, trigger in triggers(schedule).items():
        existing = scheduler.get_job(job_id, jobstore="default")
        if existing is not None and str(existing.trigger) == str(trigger):
            continue
        options: dict[str, Any] = {}
        if existing is None:
            options["next_run_time"] = now
        scheduler.add_job(
            functions[job_id],
            trigger,
            id=job_id,
            name=job_id,
            jobstore="default",
            replace_existing=True,
            **options,
        )


def schedule_retry(scheduler: AsyncIOScheduler, job_id: str, at: datetime) -> None:
    """Run ``job_id`` once more at ``at`` (in memory: a retry after a failure)."""
    functions = {COLLECT: run_collect, DELIVER: run_deliver}
    scheduler.add_job(
        functions[job_id],
        "date",
        run_date=at,
        id=f"{job_id}-retry",
        name=f"{job_id} (retry)",
        jobstore="memory",
        replace_existing=True,
    )
