"""``digest demo``: the whole pipeline on the embedded default, with no configuration at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from sqlalchemy import Connection, Engine

from digest.cli.app import app, out, runtime
from digest.cli.output import printable
from digest.sending import ledger, lifecycle
from digest.sending.messages import Prepared
from papercore.db.engine import migrate, transaction
from subscribers import store
from subscribers.model import Subscriber

if TYPE_CHECKING:
    from digest.sending.factory import DigestFactory

SAMPLE_SUBSCRIBERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ada@example.org", "Ada", ("convolutional neural networks", "image classification")),
    ("grace@example.org", "Grace", ("language models", "reasoning")),
    ("alan@example.org", "Alan", ("reinforcement learning", "robotics")),
    ("emmy@example.org", "Emmy", ("diffusion models", "video generation")),
    ("kurt@example.org", "Kurt", ()),  # no topics: the trending digest
)


@dataclass
class _KeepFirst:
    """The real factory, keeping the first message it makes (for the preview file)."""

    inner: DigestFactory
    first: Prepared | None = field(default=None)

    @property
    def sender(self) -> str:
        return self.inner.sender

    def why_none(self, subscriber: Subscriber) -> str:
        return self.inner.why_none(subscriber)

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None:
        message = self.inner.compose(connection, subscriber)
        if self.first is None and message is not None:
            self.first = message
        return message


@app.command(rich_help_panel="Start here")
def demo(ctx: typer.Context) -> None:
    """Try everything locally: create the database, load the bundled sample papers, add a few
    sample subscribers, start a built-in SMTP sink and send everyone their digest.

    Example: digest demo
    """
    from digest.cli.sending import sink_line  # keeps the CLI's panels in reading order
    from digest.ingest import ingest_locations, sample_pages
    from digest.sending.factory import build_factory
    from digest.sending.service import send_issue
    from digest.sending.sink import SinkHandler, SmtpServer

    rt = runtime(ctx)
    settings, now = rt.settings, rt.now()
    engine = rt.engine(check=False)
    migrate(engine)
    pages = [str(p) for p in sample_pages()]
    reports = ingest_locations(engine, pages, "auto", settings.sources, now)
    new = sum(r.counts.new for r in reports)
    out.print(f"papers: {new} new from {len(pages)} bundled sample pages")
    added = _add_sample_subscribers(rt.engine(check=False), now)
    out.print(f"subscribers: {added} sample subscribers added ({len(SAMPLE_SUBSCRIBERS)} in all)")

    data_dir = settings.app.data_dir
    handler = SinkHandler(
        maildir=data_dir / "maildir",
        keep=False,
        on_message=lambda m: out.print(f"  sink: {printable(sink_line(m))}"),
    )
    with SmtpServer(handler) as server:
        out.print(
            f"smtp sink: listening on 127.0.0.1:{server.port}, mail kept in {data_dir}/maildir"
        )
        local = settings.model_copy(
            update={
                "smtp": settings.smtp.model_copy(
                    update={
                        "host": "127.0.0.1",
                        "port": server.port,
                        "security": "none",
                        "username": "",
                    }
                ),
                "sending": settings.sending.model_copy(update={"processes": 1}),
            }
        )
        issue = lifecycle.open_for(engine, now.date(), "daily", now)
        factory = _KeepFirst(build_factory(engine, local, issue, now))
        report = send_issue(engine, local, issue, now, factory=factory)
    with engine.connect() as connection:
        rows = ledger.list_deliveries(connection, issue.id)
    table = Table(title=f"Issue {issue.id} of {issue.date}", title_justify="left")
    for column in ("subscriber", "papers", "size", "status"):
        table.add_column(column, justify="right" if column in ("papers", "size") else "left")
    for row in rows:
        table.add_row(
            printable(row.email),
            str(row.papers) if row.status == "sent" else "",
            f"{row.size_bytes / 1024:.1f} KB" if row.size_bytes else "",
            row.status
            if row.status != "skipped"
            else f"skipped ({printable(row.last_reply or '')})",
        )
    out.print(table)
    out.print(f"{report.counts.sent} sent now; issue status: {report.issue.status}")
    preview = _write_preview(data_dir, issue.id, factory)
    if preview is not None:
        out.print(f"preview: {preview.resolve()}")


def _add_sample_subscribers(engine: Engine, now: datetime) -> int:
    """Add the sample subscribers that are not there yet (safe to repeat)."""
    added = 0
    with transaction(engine) as connection:
        for email, name, topics in SAMPLE_SUBSCRIBERS:
            if store.find(connection, email) or store.is_suppressed(connection, email):
                continue
            sid = store.add(connection, email, now, topics=topics, name=name, status="active")
            store.record_event(connection, sid, "subscribe", now, detail={"via": "demo"})
            added += 1
    return added


def _write_preview(data_dir: Path, issue_id: int, factory: _KeepFirst) -> Path | None:
    """The first message's HTML; on a re-run that sends nothing, the file kept from before, or
    the issue's generic page."""
    path = data_dir / "preview" / f"issue-{issue_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    if factory.first is not None and factory.first.html:
        path.write_text(factory.first.html, encoding="utf-8")
    elif not path.exists():
        digests = factory.inner.digests
        picks = digests.picks(Subscriber(id=0, email=""), set())
        path.write_text(digests.prepared.generic_html(picks), encoding="utf-8")
    return path
