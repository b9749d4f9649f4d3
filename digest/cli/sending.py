"""Commands for delivery: send, deliveries, smtp-sink."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine

from digest.cli.app import app, out, runtime
from digest.cli.options import date_option, dev_option
from digest.cli.output import printable
from digest.cli.serving import serve_until_stopped, stop_on_sigterm
from digest.cli.wording import counted
from digest.issues import Issue, find_issue, get_issue, latest_issue
from digest.sending import ledger
from digest.sending.results import RunCounts
from digest.sending.scope import SendScope
from digest.sending.service import SendReport, preview, send_requested
from digest.sending.sink import Received, SinkHandler, SmtpServer
from papercore.config import Settings, require_safe_mail
from papercore.errors import RunPaused
from subscribers import store

FREQUENCIES = ("daily", "weekly")


@app.command(rich_help_panel="Mail")
def send(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Rank and render, show what would go; send nothing.")
    ] = False,
    only: Annotated[
        str | None, typer.Option(help="Send only to this subscriber's address.")
    ] = None,
    on: Annotated[
        date | None,
        date_option("--date", help="The issue's date (default today, UTC)."),
    ] = None,
    frequency: Annotated[str, typer.Option(help="daily | weekly")] = "daily",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted, paused or finished issue.")
    ] = False,
    dev: Annotated[bool, dev_option()] = False,
) -> None:
    """Send an issue: every due subscriber gets their ranked digest, each outcome is recorded.

    Example: digest send --date 2026-11-21 --resume
    """
    if frequency not in FREQUENCIES:
        raise typer.BadParameter(f"{frequency!r} is not daily or weekly", param_hint="--frequency")
    rt = runtime(ctx)
    if not dry_run:
        require_safe_mail(rt.settings, dev=dev, command="digest send")
    engine, settings, now = rt.engine(), rt.settings, rt.now()
    issue_date = on or now.date()
    only_id: int | None = None
    if only is not None:
        with engine.connect() as connection:
            only_id = store.get_by_email(connection, only).id
    if dry_run:
        with engine.connect() as connection:
            found = find_issue(connection, issue_date, frequency)
        issue = found or Issue(0, issue_date, frequency, "open", None, now, None)
        _show_preview(engine, settings, issue, now, SendScope.of(issue.id, only_id))
        return
    report = _send_with_progress(engine, settings, issue_date, frequency, now, resume, only_id)
    issue = report.issue
    if report.already_done:
        out.print(
            f"issue {issue.id} ({issue.date}, {frequency}) was already sent "
            f"({report.ledger['sent']} sent); `--resume` sends to subscribers added since"
        )
        return
    _show_report(report)
    if report.paused:
        raise RunPaused(f"issue {issue.id} paused: {report.paused}")


def _send_with_progress(
    engine: Engine,
    settings: Settings,
    issue_date: date,
    frequency: str,
    now: datetime,
    resume: bool,
    only_id: int | None,
) -> SendReport:
    with Progress(
        TextColumn("{task.fields[title]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[sent]} sent[/] [yellow]{task.fields[deferred]} deferred[/]"
            " [red]{task.fields[failed]} failed[/]"
        ),
        TextColumn("{task.fields[rate]:.0f} msg/s"),
        TimeRemainingColumn(),
        console=out,
        transient=True,
    ) as progress:
        task: TaskID = progress.add_task(
            "", total=None, title=f"issue of {issue_date}", sent=0, deferred=0, failed=0, rate=0.0
        )
        started = datetime.now().timestamp()

        def on_total(total: int) -> None:
            progress.update(task, total=total)

        def on_progress(counts: RunCounts) -> None:
            elapsed = max(1e-6, datetime.now().timestamp() - started)
            progress.update(
                task,
                completed=counts.done,
                sent=counts.sent,
                deferred=counts.deferred,
                failed=counts.failed,
                rate=counts.sent / elapsed,
            )

        # SIGTERM stops the run cleanly: messages in flight finish, the rest stay pending and
        # the issue is paused until `digest send --resume`.
        with stop_on_sigterm() as stopping:
            return send_requested(
                engine,
                settings,
                issue_date,
                frequency,
                now,
                resume=resume,
                only=only_id,
                on_progress=on_progress,
                on_total=on_total,
                should_stop=stopping.is_set,
            )


def _show_report(report: SendReport) -> None:
    issue = report.issue
    table = Table(
        title=f"Issue {issue.id} ({issue.date}, {issue.frequency}): {issue.status}",
        title_justify="left",
    )
    table.add_column("status")
    table.add_column("this run", justify="right")
    table.add_column("issue total", justify="right")
    run = report.counts
    this_run = {
        "sent": run.sent,
        "deferred": run.deferred,
        "failed": run.failed,
        "skipped": run.skipped,
        "unknown": run.unknown + report.interrupted,
    }
    for status in ledger.STATUSES:
        if this_run.get(status) or report.ledger.get(status):
            table.add_row(status, str(this_run.get(status, "")), str(report.ledger.get(status, 0)))
    out.print(table)
    if report.processes and run.sent:  # a run that sent nothing used no connection to say
        out.print(
            f"sent by {counted(report.processes, 'process', 'processes')} over "
            f"{counted(report.connections, 'SMTP connection')}"
        )
    rate = f"{report.rate:.0f} msg/s" if report.counts.sent else "-"
    out.print(
        f"{run.sent} sent in {report.seconds:.1f} s ({rate}), {run.bytes_sent / 1e6:.1f} MB; "
        f"{counted(run.bounced, 'address', 'addresses')} suppressed after a bounce"
    )
    if report.interrupted:
        were = "was" if report.interrupted == 1 else "were"
        out.print(
            f"[yellow]{counted(report.interrupted, 'message')} {were} in flight when an earlier "
            "run stopped: their outcome is unknown and they are not resent "
            "(sending.resend_unknown)[/]"
        )


def _show_preview(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    scope: SendScope,
) -> None:
    table = Table(title=f"Dry run: issue of {issue.date} ({issue.frequency})", title_justify="left")
    for column in ("subscriber", "papers", "size", "subject / reason"):
        table.add_column(column, justify="right" if column in ("papers", "size") else "left")
    shown = total = skipped = 0
    for subscriber, message, reason in preview(engine, settings, issue, now, scope):
        if message is None:
            skipped += 1
        else:
            total += 1
        if shown < 50:
            shown += 1
            table.add_row(
                printable(subscriber.email),
                str(len(message.paper_ids)) if message else "",
                f"{len(message.data) / 1024:.1f} KB" if message else "",
                printable(message.subject if message else reason or ""),
            )
    out.print(table)
    out.print(
        f"{counted(total, 'message')} would be sent, {counted(skipped, 'subscriber')} "
        "skipped; nothing was sent"
    )


DELIVERY_COLUMNS = (  # (header, right-aligned)
    ("subscriber", False),
    ("status", False),
    ("tries", True),
    ("papers", True),
    ("KB", True),
    ("updated", False),
    ("last reply", False),
)


@app.command(rich_help_panel="Mail")
def deliveries(
    ctx: typer.Context,
    issue: Annotated[int | None, typer.Option(help="Issue number (default: the latest).")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status: " + ", ".join(ledger.STATUSES))
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """Show the delivery ledger of an issue: who got what, and what the server said.

    Example: digest deliveries --status unknown
    """
    if status is not None and status not in ledger.STATUSES:
        raise typer.BadParameter(
            f"{status!r} is not one of {', '.join(ledger.STATUSES)}", param_hint="--status"
        )
    with runtime(ctx).engine().connect() as connection:
        chosen = get_issue(connection, issue) if issue is not None else latest_issue(connection)
        if chosen is None:
            out.print("no issue has been sent yet: try `digest send` or `digest demo`")
            return
        counts = ledger.counts(connection, chosen.id)
        rows = ledger.list_deliveries(connection, chosen.id, status, limit)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    table = Table(
        title=f"Issue {chosen.id} ({chosen.date}, {chosen.frequency}): {chosen.status}"
        + (f" ({printable(chosen.pause_reason)})" if chosen.pause_reason else "")
        + f"\n{summary or 'no deliveries'}",
        title_justify="left",
    )
    # Fits 80 columns: short headers and figures never wrap; an address or a reply folds onto
    # more lines rather than squeezing the other columns to "s…".
    for column, right in DELIVERY_COLUMNS:
        folds = column in ("subscriber", "last reply")
        table.add_column(
            column,
            justify="right" if right else "left",
            no_wrap=not folds,
            overflow="fold" if folds else "ellipsis",
            min_width=len(column),
        )
    for row in rows:
        table.add_row(
            printable(row.email),
            row.status,
            str(row.attempts),
            str(row.papers),
            f"{row.size_bytes / 1024:.1f}" if row.size_bytes else "",
            f"{row.updated_at:%m-%d %H:%M}",
            printable((row.last_reply or "")[:80]),
        )
    out.print(table)


def sink_line(message: Received) -> str:
    """One line per received message, for the sink's terminal."""
    recipients = ", ".join(message.recipients)
    return (
        f"{datetime.now():%H:%M:%S} {message.sender} → {recipients} "
        f"{len(message.data) / 1024:.1f} KB {message.subject[:80]!r}"
    )


@app.command("smtp-sink", rich_help_panel="Mail")
def smtp_sink(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8025,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    maildir: Annotated[
        Path | None,
        typer.Option(help="Keep messages in this maildir (default <data_dir>/maildir)."),
    ] = None,
) -> None:
    """A local SMTP server for trying things out: keeps every message, prints a line for each.

    Example: digest smtp-sink --port 8025 --maildir ./data/maildir
    """
    folder = maildir or runtime(ctx).settings.app.data_dir / "maildir"
    handler = SinkHandler(
        maildir=folder, keep=False, on_message=lambda m: out.print(printable(sink_line(m)))
    )
    server = SmtpServer(handler, host=host, port=port)
    serve_until_stopped(
        server,
        host,
        port,
        started=lambda: out.print(
            f"smtp-sink listening on {host}:{server.port}, keeping mail in {folder} (Ctrl-C stops)"
        ),
    )
    out.print("smtp-sink stopped")
