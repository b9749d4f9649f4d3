"""The scheduling service with a fake clock: one pass records its runs, the job store persists
jobs in our database without upsetting Alembic, and `digest status` reports it all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from digest.ranking import DatabaseEmbeddings, semantic_available
from digest.schedule import queries, scheduler
from digest.schedule.inline import InlineSender
from digest.schedule.service import Service
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import _alembic_config
from subscribers import store
from tests.conftest import SAMPLE_PAGES, Cli

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def _service(engine: Engine, settings: Settings, clock: list[datetime]) -> Service:
    settings.ranking.semantic = "off"
    settings.sources.pages = [str(p) for p in SAMPLE_PAGES]
    sender = InlineSender(engine, settings, RecordingTransport())
    return Service(settings, engine, sender, clock=lambda: clock[0])


async def test_one_pass_collects_delivers_and_records_its_runs(
    engine: Engine, settings: Settings
) -> None:
    clock = [NOW]
    with engine.begin() as connection:
        store.add(connection, "ada@example.org", NOW - timedelta(days=2), status="active", hour=8)
    service = _service(engine, settings, clock)
    collected, delivered = await service.run_once()
    assert collected.counts.new > 0 and not collected.failed
    assert delivered.issues == ["2026-03-09/daily"]
    assert service.sender.transport.sent[0].recipient == "ada@example.org"  # type: ignore[attr-defined]
    clock[0] = NOW + timedelta(minutes=5)
    _, again = await service.run_once()
    assert again.issues == [] and len(service.sender.transport.sent) == 1  # type: ignore[attr-defined]
    with engine.connect() as connection:
        runs = queries.job_runs_by_name(connection)
    assert {name: (r.outcome, r.runs) for name, r in runs.items()} == {
        "collect": ("ok", 2),
        "deliver": ("ok", 2),
    }
    assert runs["collect"].finished_at == NOW + timedelta(minutes=5)
    assert runs["collect"].detail["new"] == 0  # the second collect found nothing new


async def test_a_failing_source_is_reported_and_the_others_still_collected(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    service = _service(engine, settings, [NOW])
    settings.sources.pages = [str(tmp_path / "missing.txt"), str(SAMPLE_PAGES[0])]
    report = await service.collect_once()
    assert [where for where, _ in report.failed] == [str(tmp_path / "missing.txt")]
    assert report.counts.new > 0


@pytest.mark.skipif(not semantic_available(), reason="the [semantic] extra is not installed")
async def test_collect_embeds_the_new_papers_for_the_semantic_ranker(
    engine: Engine, settings: Settings
) -> None:
    service = _service(engine, settings, [NOW])
    settings.ranking.semantic = "on"
    settings.sources.pages = [str(SAMPLE_PAGES[2])]  # the smallest page
    report = await service.collect_once()
    assert report.embedded == report.counts.new > 0
    assert DatabaseEmbeddings(engine).missing_ids() == []
    again = await service.collect_once()
    assert again.embedded == 0


async def test_the_job_store_persists_jobs_and_alembic_still_checks_clean(
    engine: Engine, settings: Settings
) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {queries.JOBSTORE_TABLE}"))
    sched = scheduler.build_scheduler(engine, settings.schedule)
    sched.start(paused=True)
    try:
        scheduler.install_jobs(sched, settings.schedule, NOW)
        first = {job.id: job.next_run_time for job in sched.get_jobs()}
        assert first["collect"] == NOW and first["deliver"] == NOW  # first start: run at once
        # A restart with the same schedule keeps the persisted (possibly missed) runs.
        scheduler.install_jobs(sched, settings.schedule, NOW + timedelta(hours=1))
        assert {job.id: job.next_run_time for job in sched.get_jobs()} == first
        # A changed schedule replaces the job.
        settings.schedule.deliver_every_seconds = 2
        scheduler.install_jobs(sched, settings.schedule, NOW)
        job = sched.get_job("deliver")
        assert job is not None and job.trigger.interval == timedelta(seconds=2)
        assert job.coalesce and job.max_instances == 1
        assert job.misfire_grace_time == settings.schedule.misfire_grace_hours * 3600
    finally:
        sched.shutdown(wait=False)
    await asyncio.sleep(0)
    with engine.connect() as connection:
        assert inspect(connection).has_table(queries.JOBSTORE_TABLE)
        assert set(queries.scheduled_next_runs(connection)) == {"collect", "deliver"}
    with engine.begin() as connection:
        command.check(_alembic_config(connection))  # raises when the schema drifted


def test_digest_status_shows_jobs_papers_deliveries_and_suppressions(
    cli: Cli, engine: Engine
) -> None:
    with engine.begin() as connection:  # the PostgreSQL database is shared by the session
        connection.execute(text(f"DROP TABLE IF EXISTS {queries.JOBSTORE_TABLE}"))
    cli("ingest", str(SAMPLE_PAGES[0]))
    result = cli("status")
    assert "collect" in result.stdout and "deliver" in result.stdout
    assert "not scheduled yet" in result.stdout
    assert "no issue yet" in result.stdout
    assert "suppressed addresses" in result.stdout
    line = next(x for x in result.stdout.splitlines() if "papers collected today" in x)
    assert int(line.split("│")[-2]) > 0
    assert "waiting for embeddings" not in result.stdout  # the semantic ranker is off
    semantic = cli("status", env={"DIGEST_RANKING__SEMANTIC": "on"})
    line = next(x for x in semantic.stdout.splitlines() if "waiting for embeddings" in x)
    assert int(line.split("│")[-2]) == int(
        next(x for x in result.stdout.splitlines() if "papers collected today" in x).split("│")[-2]
    )  # ingested by a command with the semantic ranker off: none embedded yet


async def test_stopping_mid_pass_finishes_the_message_in_flight_and_keeps_the_ledger_true(
    engine: Engine, settings: Settings
) -> None:
    settings.smtp.pool_size = 1
    with engine.begin() as connection:
        for n in range(6):
            store.add(connection, f"p{n}@example.org", NOW - timedelta(days=2), status="active")
    service = _service(engine, settings, [NOW])
    transport = RecordingTransport(delay=0.05)
    service.sender = InlineSender(engine, settings, transport)
    await service.collect_once()

    async def stop_after_two() -> None:
        while len(transport.sent) < 2:
            await asyncio.sleep(0.01)
        service.request_stop("test")

    stopper = asyncio.ensure_future(stop_after_two())
    report = await service.deliver_once()
    await stopper
    assert report.stopped
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
        statuses = {status: int(n) for status, n in rows}
    assert "sending" not in statuses  # nothing left in an unknown state
    assert statuses.get("sent") == len(transport.sent) < 6
    assert statuses.get("sent", 0) + statuses.get("pending", 0) == 6
