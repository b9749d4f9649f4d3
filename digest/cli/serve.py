"""``digest serve``: the web app (signup, preferences, unsubscribe, archive) under uvicorn."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from digest.cli.app import app, err, out, runtime
from digest.cli.options import dev_option
from papercore.config import require_safe_mail


@app.command(rich_help_panel="People")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on [web.host].")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on, 0 for any free one [web.port].")
    ] = None,
    dev: Annotated[
        bool, dev_option("Local testing: allow the example secret, http and loopback settings.")
    ] = False,
) -> None:
    """Run the web app: signup with double opt-in, preferences, one-click unsubscribe, archive.

    Example: digest serve --host 0.0.0.0 --port 8000
    """
    from digest.web.server import make_server  # the web stack, for this command only

    rt = runtime(ctx)
    require_safe_mail(rt.settings, dev=dev, command="digest serve")  # before the database
    web = make_server(rt.settings, rt.engine(), host=host, port=port, dev=dev, clock=rt.now)
    if web.example_secret:
        err.print("warning: --dev with the example secret key: links can be forged")
    out.print(f"serving {rt.settings.app.base_url} on http://{web.host}:{web.port}")
    sys.stdout.flush()
    asyncio.run(web.serve())
