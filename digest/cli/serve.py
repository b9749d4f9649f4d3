"""``digest serve``: the web app (signup, preferences, unsubscribe, archive) under uvicorn."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer
import uvicorn

from digest.cli.app import app, err, out, runtime
from digest.sending.transports.smtp import SmtpTransport
from digest.web import create_app
from digest.web.notice_mailer import NoticeMailer
from papercore.config import EXAMPLE_SECRET
from papercore.errors import ConfigError


@app.command(rich_help_panel="People")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on [web.host].")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on, 0 for any free one [web.port].")
    ] = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Development: allow the example secret key.")
    ] = False,
) -> None:
    """Run the web app: signup with double opt-in, preferences, one-click unsubscribe, archive.

    Example: digest serve --host 0.0.0.0 --port 8000
    """
    rt = runtime(ctx)
    settings = rt.settings
    if settings.web.secret_key.get_secret_value() == EXAMPLE_SECRET and not dev:
        raise ConfigError(
            [
                "web.secret_key is the example value: set DIGEST_WEB__SECRET_KEY to a long random "
                "string (or pass --dev on your own machine)"
            ]
        )
    if dev and settings.web.secret_key.get_secret_value() == EXAMPLE_SECRET:
        err.print("warning: --dev with the example secret key: links can be forged")
    engine = rt.engine()
    mailer = NoticeMailer(settings, SmtpTransport(settings.smtp), clock=rt.now)
    web_app = create_app(settings, engine, mailer)
    chosen_host = host or settings.web.host
    chosen_port = settings.web.port if port is None else port
    config = uvicorn.Config(
        web_app,
        host=chosen_host,
        port=chosen_port,
        proxy_headers=True,
        server_header=False,
        log_level="info" if dev else "warning",
        access_log=dev,
    )
    server = uvicorn.Server(config)
    listener = _listen(chosen_host, chosen_port)
    bound = listener.getsockname()[1]
    out.print(f"serving {settings.app.base_url} on http://{chosen_host}:{bound}")
    sys.stdout.flush()
    server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that --port 0 can report the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ConfigError([f"cannot listen on {host}:{port}: {exc.strerror}"]) from exc
    listener.listen(2048)
    return listener
