"""`digest run` (the scheduling service) and `digest status`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from digest import paper_store
from digest.cli.app import app, out, runtime
from digest.cli.options import dev_option
from digest.cli.wording import counted
from digest.cli.worker import queue_lines, queue_sender
from digest.inbound.rates import return_rates
from digest.schedule import events, queries, scheduler
from digest.schedule.preflight import check_relay
from digest.sending import ledger
from papercore.config import Settings, require_safe_mail
from papercore.errors import SourceUnavailable
from subscribers import store

if TYPE_CHECKING:
    from digest.queue.dispatch import QueueSender
    from digest.schedule.inline import InlineSender
    from digest.schedule.service import Service
    from digest.web.server import WebServer

log = logging.getLogger(events.LOGGER)


@app.command(rich_help_panel="Service")
def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One collect and one deliver pass, then exit (cron).")
    ] = False,
    with_web: Annotated[
        bool, typer.Option("--with-web", help="Also serve the web app in this process.")
    ] = False,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line.")
    ] = False,
    scheduler_only: Annotated[
        bool,
        typer.Option(
            "--scheduler-only",
            help="Queue due subscribers as batch jobs for `digest worker` (queue.backend = "
            '"procrastinate") instead of sending here.',
        ),
    ] = False,
    dev: Annotated[bool, dev_option()] = False,
) -> None:
    """Collect papers on a schedule and mail each subscriber at their local hour.

    Runs until SIGTERM or Ctrl-C, which finish the message in flight and stop cleanly.

    Example: digest run --with-web --log-json
    """
    rt = runtime(ctx)
    events.configure(log_json)
    settings = rt.settings
    require_safe_mail(settings, dev=dev, command="digest run")
    engine = rt.engine()  # a database that is unreachable or behind is a StorageError here
    from digest.schedule.service import utc_now  # the service stack, for this command only

    clock = rt.now if rt.clock is not None else utc_now
    web = None
    if with_web:  # bound before the service starts: a busy port is a one-line ConfigError
        from digest.web.server import make_server

        web = make_server(
            settings, engine, dev=dev, clock=clock, own_signals=False, own_logging=False
        )
    failed = asyncio.run(
        _serve(
            settings,
            engine,
            once=once,
            web=web,
            clock=clock,
            queued=scheduler_only or settings.queue.backend == "procrastinate",
        )
    )
    if failed:
        raise SourceUnavailable(f"{len(failed)} source(s) could not be collected: {failed[0]}")


async def _serve(
    settings: Settings,
    engine: Engine,
    *,
    once: bool,
    web: WebServer | None,
    clock: Any,
    queued: bool = False,
) -> list[str]:
    from digest.schedule.inline import InlineSender
    from digest.schedule.service import Service

    sender: InlineSender | QueueSender
    if queued:  # scale-out: `digest worker` processes send (digest/queue)
        sender = queue_sender(settings, engine)
    else:
        await check_relay(settings.smtp)
        from digest.sending.transports.smtp import SmtpTransport

        sender = InlineSender(engine, settings, SmtpTransport(settings.smtp), spread=True)
    service = Service(settings, engine, sender, clock=clock)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.request_stop, signal.Signals(signum).name)
    try:
        if once:
            collected, _ = await service.run_once()
            return [f"{where}: {why}" for where, why in collected.failed]
        companions: list[Awaitable[None]] = []
        if web is not None:
            companions.append(_web(web, settings, service))
        await service.run_forever(*companions)
        return []
    finally:
        await sender.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _web(web: WebServer, settings: Settings, service: Service) -> None:
    """Serve the web app in this event loop until the service stops."""

    async def stop_with_service() -> None:
        await service.stop.wait()
        web.stop()

    watcher = asyncio.ensure_future(stop_with_service())
    events.event(log, "web.starting", url=settings.app.base_url, host=web.host, port=web.port)
    try:
        await web.serve()
    finally:
        watcher.cancel()
    if not service.stop.is_set():
        raise RuntimeError(f"the web server on {web.host}:{web.port} stopped")


@app.command(rich_help_panel="Service")
def status(
    ctx: typer.Context,
    subscriber: Annotated[
        str | None,
        typer.Option(
            "--subscriber",
            help="Explain this subscriber's next digest: when, what it would hold, or why it "
            "would be skipped.",
        ),
    ] = None,
) -> None:
    """Show the scheduler's jobs, today's papers, the current issue's deliveries and suppressions.

    Example: digest status --subscriber ada@example.org
    """
    rt = runtime(ctx)
    now = rt.now()
    settings = rt.settings
    if subscriber is not None:
        from digest.cli.next_digest import explain_next_digest

        explain_next_digest(rt.engine(), settings, subscriber, now)
        return
    with rt.engine().connect() as connection:
        runs = queries.job_runs_by_name(connection)
        planned = queries.scheduled_next_runs(connection)
        today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        collected = paper_store.papers_first_seen_since(connection, today)
        issues = ledger.recent_issue_figures(connection, limit=3)
        suppressed = store.suppression_count(connection)
        returned = return_rates(connection, now)

    jobs = Table(title="Jobs", title_justify="left")
    for column in ("job", "last started", "last finished", "outcome", "runs", "next run"):
        jobs.add_column(column, justify="right" if column == "runs" else "left")
    triggers = scheduler.triggers(settings.schedule)
    for job in scheduler.JOBS:
        found = runs.get(job)
        if job in planned:
            upcoming = _planned(planned[job], now)
        else:
            upcoming = f"{_when(scheduler.next_fire(triggers[job], now))} (not scheduled yet)"
        jobs.add_row(
            job,
            _when(found.started_at if found else None),
            _when(found.finished_at if found else None),
            _outcome(found),
            str(found.runs if found else 0),
            upcoming,
        )
    out.print(jobs)

    current = Table(title="Deliveries of the newest issues", title_justify="left")
    columns = (
        "issue",
        "date",
        "frequency",
        "status",
        "pending",
        "sent",
        "failed",
        "bounced",
        "complained",
        "other",
    )
    for column in columns:
        current.add_column(column, justify="right" if column not in columns[1:4] else "left")
    for issue in issues:
        d = issue.deliveries
        waiting = d.get("pending", 0) + d.get("deferred", 0) + d.get("sending", 0)
        other = d.get("skipped", 0) + d.get("unknown", 0)
        current.add_row(
            str(issue.id),
            issue.issue_date.isoformat(),
            issue.frequency,
            issue.status,
            str(waiting),
            str(d.get("sent", 0)),
            str(d.get("failed", 0)),
            str(d.get("bounced", 0)),
            str(d.get("complained", 0)),
            str(other),
        )
    if not issues:
        current.add_row("-", "no issue yet", "", "", "0", "0", "0", "0", "0", "0")
    out.print(current)

    figures = Table(title="Today", title_justify="left")
    figures.add_column("what")
    figures.add_column("count", justify="right")
    figures.add_row(f"papers collected today ({today.date().isoformat()} UTC)", str(collected))
    figures.add_row("suppressed addresses", str(suppressed))
    figures.add_row(
        f"bounce / complaint rate, last {counted(returned.days, 'day')} ({returned.sent} sent)",
        f"{returned.bounce_rate:.2%} / {returned.complaint_rate:.2%}",
    )
    figures.add_row(
        "inbound messages kept for the operator (digest inbound --kept)", str(returned.kept)
    )
    from digest.ranking import DatabaseEmbeddings, semantic_wanted

    if semantic_wanted(settings.ranking.semantic):
        waiting = DatabaseEmbeddings(rt.engine()).missing_count()
        figures.add_row("papers waiting for embeddings (semantic ranker)", str(waiting))
    if settings.queue.backend == "procrastinate":
        for what, value in queue_lines(settings, rt.engine()):
            figures.add_row(what, value)
    out.print(figures)
    for warning in returned.warnings:
        out.print(f"[bold red]warning:[/] {warning}")


def _planned(moment: datetime | None, now: datetime) -> str:
    """The persisted next run; one already past was left by a service that is not running
    (a running one moves it forward when the job starts), so it is not shown as upcoming."""
    if moment is None or moment >= now - timedelta(minutes=1):  # a pass may be starting
        return _when(moment)
    return f"not running: was due {_when(moment)}; runs when `digest run` starts"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _outcome(found: queries.JobRun | None) -> str:
    if found is None:
        return "-"
    error = found.detail.get("error")
    return f"{found.outcome}: {error}"[:80] if error else found.outcome
