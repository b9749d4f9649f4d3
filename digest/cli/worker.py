"""`digest worker` (run batch jobs) and `digest enqueue` (queue an issue for the workers), for
``[queue] backend = "procrastinate"``."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import Engine

from digest.cli.app import app, out, runtime
from digest.cli.options import date_option, dev_option
from digest.cli.wording import counted
from digest.schedule.due import IssueKey
from papercore.config import Settings, require_safe_mail
from papercore.errors import ConfigError
from subscribers import store

if TYPE_CHECKING:
    from digest.queue.dispatch import QueueSender

# procrastinate and psycopg are the optional `postgres` extra: imported only when used.


def _require_queue(settings: Settings) -> None:
    if settings.queue.backend != "procrastinate":
        raise ConfigError(
            [
                'queue.backend is "inline": workers need [queue] backend = "procrastinate" '
                "(and PostgreSQL)"
            ]
        )
    from digest.queue.jobs import require_schema

    require_schema(settings.database_url)


@app.command(rich_help_panel="Service")
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", min=1, help="Batches run at once (default: queue.concurrency)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Worker name in the logs.")] = None,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Exit when no batch is left to run.")
    ] = False,
    dev: Annotated[bool, dev_option()] = False,
) -> None:
    """Run batch jobs: rank, render and send queued batches through the delivery ledger.

    Start any number, on any machines sharing the PostgreSQL database. SIGTERM or Ctrl-C finish
    the messages in flight, give the rest of their batches back to the queue, and stop.

    Example: digest worker --concurrency 2
    """
    rt = runtime(ctx)
    settings = rt.settings
    require_safe_mail(settings, dev=dev, command="digest worker")
    _require_queue(settings)
    engine = rt.engine()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    from digest.queue.worker import work

    asyncio.run(work(settings, engine, name=name, concurrency=concurrency, until_empty=until_empty))


@app.command(rich_help_panel="Service")
def enqueue(
    ctx: typer.Context,
    on: Annotated[
        date | None, date_option("--date", help="The issue's date (default today, UTC).")
    ] = None,
    frequency: Annotated[str, typer.Option("--frequency", help="daily | weekly")] = "daily",
) -> None:
    """Queue an issue for every subscriber of its frequency, as batch jobs for `digest worker`.

    Safe to repeat: what the ledger holds is never queued for sending again.

    Example: digest enqueue --date 2026-11-21
    """
    if frequency not in ("daily", "weekly"):
        raise typer.BadParameter(f"{frequency!r} is not daily or weekly", param_hint="--frequency")
    rt = runtime(ctx)
    settings = rt.settings
    _require_queue(settings)
    engine = rt.engine()
    now = rt.now()
    issue_date = on or now.date()
    from digest.queue.dispatch import hand_over

    with engine.connect() as connection:
        last = store.max_subscriber_id(connection)
    queued = hand_over(
        engine,
        IssueKey(issue_date, frequency),  # type: ignore[arg-type]
        [(0, last)],
        settings.queue.batch_size,
        now,
    )
    batches = counted(len(queued), "batch", "batches")
    out.print(f"issue {issue_date.isoformat()}/{frequency}: {batches} queued")


def queue_sender(settings: Settings, engine: Engine) -> QueueSender:
    """The scheduler's sender for `digest run --scheduler-only`: due subscribers become batch
    jobs (written in the issue's transaction) for `digest worker` processes."""
    _require_queue(settings)
    from digest.queue.dispatch import QueueSender

    return QueueSender(
        engine, settings.queue.batch_size, timedelta(days=settings.queue.keep_finished_days)
    )


def queue_lines(settings: Settings, engine: Engine) -> list[tuple[str, str]]:
    """`digest status` rows: workers seen and batches queued / running / done / failed."""
    from digest.queue.status import describe, queue_status

    return describe(queue_status(engine, settings.queue.stalled_after_seconds))
