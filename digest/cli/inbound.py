"""``digest inbound``: receive bounces, complaints and mailed unsubscribes (SMTP, LMTP or an IMAP
mailbox), and list the messages kept for the operator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from digest.cli.app import app, out, runtime
from digest.cli.output import printable
from digest.cli.serving import serve_until_stopped, until_stopped
from digest.cli.wording import counted
from digest.inbound import store as inbound_store
from digest.inbound.imap import ImapPoller
from digest.inbound.listener import listener
from digest.inbound.process import Handled, Inbound
from papercore.db.engine import transaction
from papercore.errors import ConfigError, NotFound


def _line(handled: Handled) -> None:
    who = f" {handled.email}" if handled.email else ""
    out.print(printable(f"{datetime.now():%H:%M:%S} {handled.kind} → {handled.action}{who}"))


@app.command(rich_help_panel="Mail")
def inbound(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default inbound.listen_port).")] = None,
    lmtp: Annotated[bool, typer.Option("--lmtp", help="Speak LMTP instead of SMTP.")] = False,
    imap: Annotated[
        bool, typer.Option("--imap", help="Poll the inbound.imap_url mailbox instead.")
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="With --imap: process what is there, then exit.")
    ] = False,
    kept: Annotated[
        bool, typer.Option("--kept", help="List the messages kept for the operator, and exit.")
    ] = False,
    resolve: Annotated[
        int | None, typer.Option(help="Mark the kept message with this id as dealt with.")
    ] = None,
) -> None:
    """Receive bounces, complaints and mailed unsubscribes, and act on them.

    Point your MTA's bounce address (sender.verp_address) and unsubscribe address at this
    listener (see README: "Bounces and complaints"), or poll a mailbox with --imap.

    Example: digest inbound --port 2525 --lmtp
    """
    rt = runtime(ctx)
    engine = rt.engine()
    if kept or resolve is not None:
        _kept(engine, resolve)
        return
    service = Inbound(engine, rt.settings)
    if imap:
        if not rt.settings.inbound.imap_url.get_secret_value():
            raise ConfigError(["inbound.imap_url: set it to poll a mailbox (--imap)"])
        poller = ImapPoller(service, rt.settings, on_handled=_line)
        if once:
            done = poller.run_once()
            out.print(f"{counted(len(done), 'message')} processed")
            return
        where = f"{poller.mailbox.host} folder {poller.mailbox.folder}"
        until_stopped(poller.run, started=lambda: out.print(f"polling {where} (Ctrl-C stops)"))
        return
    settings = rt.settings.inbound
    bind_host = host or settings.listen_host
    bind_port = settings.listen_port if port is None else port
    server = listener(service, bind_host, bind_port, lmtp=lmtp, on_handled=_line)
    protocol = "LMTP" if lmtp else "SMTP"
    serve_until_stopped(
        server,
        bind_host,
        bind_port,
        started=lambda: out.print(
            f"inbound {protocol} listening on {bind_host}:{server.port} (Ctrl-C stops)"
        ),
    )


def _kept(engine: Engine, resolve: int | None) -> None:
    if resolve is not None:
        with transaction(engine) as connection:
            if not inbound_store.resolve(connection, resolve):
                raise NotFound(f"no kept message with id {resolve}")
        out.print(f"kept message {resolve} marked as dealt with")
        return
    with engine.connect() as connection:
        rows = inbound_store.kept(connection, 100)
    table = Table(
        title=f"{counted(len(rows), 'message')} kept for the operator", title_justify="left"
    )
    for column in ("id", "received", "via", "kind", "times", "what"):
        table.add_column(column, justify="right" if column in ("id", "times") else "left")
    for row in rows:
        table.add_row(
            str(row.id),
            f"{row.received_at:%Y-%m-%d %H:%M:%S}",
            row.via,
            row.kind,
            str(row.repeats),
            printable(row.detail[:100]),
        )
    out.print(table)
