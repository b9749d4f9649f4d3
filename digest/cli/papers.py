"""Commands for the database and papers: init, ingest, papers list, papers export."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import Connection

from digest.cli.app import app, out, runtime
from digest.cli.options import date_option
from digest.cli.output import printable
from digest.cli.progress import embedding_progress
from digest.compose.citations import FORMATS, export
from digest.ingest import ingest_locations
from digest.paper_store import IngestCounts, get_papers, list_papers
from papercore.db.engine import migrate
from papercore.papers import Paper
from subscribers import store
from subscribers.feedback import MORE

papers_app = typer.Typer(help="Look at the papers in the store.", no_args_is_help=True)
app.add_typer(papers_app, name="papers", rich_help_panel="Papers")


@app.command(rich_help_panel="Papers")
def init(ctx: typer.Context) -> None:
    """Create or migrate the database to the newest schema.

    Example: digest init
    """
    rt = runtime(ctx)
    before, after = migrate(rt.engine(check=False))
    state = "created" if before is None else ("migrated" if before != after else "up to date")
    out.print(f"database {state} at revision {after}: {rt.engine(check=False).url!r}")
    if rt.settings.queue.backend == "procrastinate":
        from digest.queue.jobs import apply_schema

        created = apply_schema(rt.settings.database_url)
        out.print(f"job queue {'created' if created else 'up to date'} (procrastinate)")


@app.command(rich_help_panel="Papers")
def ingest(
    ctx: typer.Context,
    locations: Annotated[
        list[str], typer.Argument(help="Files or http(s) URLs.", metavar="PATH_OR_URL...")
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="auto | page | hf | arxiv")] = "auto",
    embed: Annotated[
        bool,
        typer.Option(
            help="Then compute the semantic ranker's embeddings of new papers "
            "(when ranking.semantic is on, or auto and installed)."
        ),
    ] = True,
) -> None:
    """Read papers from listing pages, Hugging Face daily-papers JSON or arXiv Atom feeds.

    Example: digest ingest page1.txt https://huggingface.co/api/daily_papers?date=2025-10-02
    """
    if fmt not in ("auto", "page", "hf", "arxiv"):
        raise typer.BadParameter(
            f"{fmt!r} is not one of auto, page, hf, arxiv", param_hint="--format"
        )
    rt = runtime(ctx)
    engine = rt.engine()
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=out,
        transient=True,
        disable=len(locations) < 2,
    ) as progress:
        task = progress.add_task("", total=len(locations))
        reports = ingest_locations(
            engine,
            locations,
            fmt,  # type: ignore[arg-type]
            rt.settings.sources,
            rt.now(),
            on_document=lambda name: progress.update(task, advance=1, description=name[-50:]),
        )
    table = Table(title="Ingested", title_justify="left")
    for column in ("source", "read", "new", "merged", "skipped"):
        table.add_column(column, justify="left" if column == "source" else "right")
    total = IngestCounts()
    for report in reports:
        total.add(report.counts)
        _row(table, printable(report.name), report.counts)
    if len(reports) > 1:
        table.add_section()
        _row(table, "total", total)
    out.print(table)
    if total.skipped:
        out.print(_skip_reasons(total))
    from digest.ranking import embed_stored_papers, semantic_wanted, shared_encoder

    mode = rt.settings.ranking.semantic
    if embed and semantic_wanted(mode):
        with embedding_progress() as on_progress:
            embedded = embed_stored_papers(engine, lambda: shared_encoder(mode), on_progress)
        if embedded:
            out.print(f"embedded {embedded} papers for the semantic ranker")


def _row(table: Table, name: str, counts: IngestCounts) -> None:
    table.add_row(name, str(counts.read), str(counts.new), str(counts.merged), str(counts.skipped))


def _skip_reasons(counts: IngestCounts) -> Table:
    """Why papers were skipped: a reason and a count per row, the most common first."""
    table = Table(title=f"Skipped {counts.skipped}: why", title_justify="left")
    table.add_column("reason")
    table.add_column("papers", justify="right")
    for reason, n in sorted(counts.why_skipped.items(), key=lambda item: -item[1]):
        table.add_row(printable(reason), str(n))
    return table


@papers_app.command("list")
def papers_list(
    ctx: typer.Context,
    since: Annotated[
        date | None,
        date_option(help="Only papers first seen, posted or published on/after this date."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List papers, newest first.

    Example: digest papers list --since 2024-06-01 --json
    """
    with runtime(ctx).engine().connect() as connection:
        found = list_papers(connection, since, limit)
    if as_json:
        out.print_json(json.dumps([paper_json(p) for p in found]))
        return
    table = Table(title=f"{len(found)} papers", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    table.add_column("authors", justify="right")
    table.add_column("published")
    table.add_column("upvotes", justify="right")
    table.add_column("sources")
    for paper in found:
        table.add_row(
            printable(paper.id[:16]),
            printable(paper.title[:100]),
            str(paper.n_authors or ""),
            str(paper.published or ""),
            "" if paper.upvotes is None else str(paper.upvotes),
            ",".join(paper.sources),
        )
    out.print(table)


def paper_json(paper: Paper) -> dict[str, Any]:
    """A paper as JSON-ready data (dates as ISO strings), with its link."""
    data = asdict(paper)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    data["link"] = paper.link
    return data


@papers_app.command("export")
def papers_export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex | ris | csl-json")] = "bibtex",
    liked_by: Annotated[
        str | None,
        typer.Option("--liked-by", help="Only the papers this subscriber (an email) liked."),
    ] = None,
    since: Annotated[
        date | None, date_option(help="Only papers first seen, posted or published on/after this.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write papers as citations for a reference manager: BibTeX, RIS or CSL-JSON.

    All stored papers, newest first, or those one subscriber liked ("more like this"),
    the most recently liked first.
    Example: digest papers export --format bibtex --liked-by ada@example.org -o liked.bib
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    with runtime(ctx).engine().connect() as connection:
        if liked_by is None:
            found = list_papers(connection, since, limit)
        else:
            found = liked_papers(connection, store.get_by_email(connection, liked_by).id)
            found = found[:limit] if limit is not None else found
    text = export(found, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    _write_whole(output, text)
    out.print(f"wrote {len(found)} papers as {fmt} to {printable(str(output))}")


def liked_papers(connection: Connection, subscriber_id: int) -> list[Paper]:
    """The stored papers the subscriber voted "more like this" for, the newest vote first."""
    ids = [e.paper_id for e in store.examples_of(connection, subscriber_id) if e.vote == MORE]
    ids = [i for i in reversed(ids) if not i.startswith("seed:")]
    found = get_papers(connection, ids)
    return [found[i] for i in ids if i in found]


def _write_whole(target: Path, text: str) -> None:
    """``text`` into ``target`` all at once: a temporary file beside it, then renamed."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write there: {exc.strerror}", param_hint="--output"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
