"""``digest preview``: the next digest as it would be sent, in the browser."""

from __future__ import annotations

import socket
import webbrowser
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from digest.cli.app import app, out, runtime
from digest.cli.options import date_option
from digest.cli.output import printable
from digest.cli.progress import embedding_progress
from digest.cli.wording import counted
from digest.schedule.outlook import next_digest
from papercore.config import Settings


@app.command(rich_help_panel="Mail")
def preview(
    ctx: typer.Context,
    subscriber: Annotated[
        str | None, typer.Option("--subscriber", help="Preview this subscriber's next digest.")
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Preview for these topics instead (repeatable)."),
    ] = None,
    on: Annotated[
        date | None,
        date_option(
            "--date",
            help="The issue's date (default: a subscriber's next issue as the scheduler will "
            "send it; else today, UTC).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="HTML file to write.")
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the file in the default browser.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Run a local page that re-renders on every reload.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (0: any free port).")] = 8001,
) -> None:
    """Render the next digest exactly as `digest send` would build it now (the issue of --date
    at the subscriber's frequency: same papers, ranking and memory); nothing is written to the
    database. Topics, or none (the trending digest), stand for a subscriber's first digest.

    Writes the HTML (and the complete message as .eml next to it).
    Example: digest preview --topic "graph neural networks" --open
    """
    if subscriber and topic:
        raise typer.BadParameter("give --subscriber or --topic, not both", param_hint="--topic")
    rt = runtime(ctx)
    settings, engine = rt.settings, rt.engine()
    if serve:
        _serve(rt.settings, engine, port)
        return
    from digest.personal import preview_digest, preview_subscriber

    now = rt.now()
    with engine.connect() as connection:
        person = preview_subscriber(connection, subscriber, topic or [])
        if subscriber and on is None:  # the issue the scheduler will send them next
            coming = next_digest(connection, person, now, settings.schedule.default_timezone)
            on = coming.issue.issue_date if coming.issue is not None else None
    with embedding_progress() as on_embed:
        found = preview_digest(engine, settings, person, now, day=on, on_embed=on_embed)
    message = found.message
    target = output or settings.app.data_dir / "previews" / f"issue-{found.issue.id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(message.html, encoding="utf-8")
    target.with_suffix(".eml").write_bytes(message.data)
    papers = counted(found.shown, "paper")
    out.print(f"issue {found.issue.id} for {printable(person.email)}: {papers}")
    out.print(f"subject: {printable(message.subject)}")
    for rank, pick in enumerate(found.picks, start=1):
        out.print(f"  {rank}. {printable(pick.paper.title)}", soft_wrap=True)
    out.print(
        f"HTML {len(message.html.encode()) / 1024:.1f} KB, "
        f"message {len(message.data) / 1024:.1f} KB"
    )
    out.print(f"wrote {target} and {target.with_suffix('.eml')}", markup=False)
    if open_browser:
        webbrowser.open(target.resolve().as_uri())


def _serve(settings: Settings, engine: Engine, port: int) -> None:
    import uvicorn

    from digest.cli.preview_server import create_preview_app

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    out.print(f"preview at http://127.0.0.1:{listener.getsockname()[1]}/ (Ctrl-C stops)")
    config = uvicorn.Config(create_preview_app(settings, engine), log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])
