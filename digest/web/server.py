"""The one way the web app is served: `digest serve` and `digest run --with-web` both build their
uvicorn server here, with the same options, notice mailer and secret-key rule."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import uvicorn
from sqlalchemy import Engine

from digest.sending.notice_mail import NoticeMailer
from digest.sending.outbox_sender import drain_forever
from digest.sending.transports import Transport
from digest.sending.transports.smtp import SmtpTransport
from digest.web.app import create_app
from digest.web.state import Web, utc_now
from papercore.config import EXAMPLE_SECRET, Settings, require_safe_mail
from papercore.errors import ConfigError


@dataclass
class WebServer:
    """The web app under uvicorn, bound to ``listener`` on ``host``:``port`` (the port it got)."""

    server: uvicorn.Server
    listener: socket.socket
    host: str
    port: int
    mailer: NoticeMailer
    example_secret: bool  # only with dev: links signed with the example key can be forged
    web: Web | None = None  # whose outbox `serve` drains in the background

    async def serve(self) -> None:
        """Serve until ``server.should_exit`` is set (or SIGTERM / SIGINT when the server owns
        them), draining the notice outbox in the background; then close the listener and the
        notice mailer's transport."""
        web = self.web
        drainer = (
            asyncio.create_task(drain_forever(web.engine, web.mailer, web.settings, web.clock))
            if web
            else None
        )
        try:
            await self.server.serve(sockets=[self.listener])
        finally:
            if drainer is not None:
                drainer.cancel()
            self.listener.close()
            await self.mailer.close()

    def stop(self) -> None:
        """Ask the server to finish the requests in flight and return from ``serve``."""
        self.server.should_exit = True


class _SignalFreeServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller (the scheduling service) owns SIGTERM and SIGINT


def make_server(
    settings: Settings,
    engine: Engine,
    *,
    host: str | None = None,
    port: int | None = None,
    dev: bool = False,
    clock: Callable[[], datetime] = utc_now,
    transport: Transport | None = None,
    own_signals: bool = True,
    own_logging: bool = True,
) -> WebServer:
    """The web app's server, its socket already listening on ``host``:``port`` (default
    ``[web]`` host and port; port 0 takes a free one, reported as ``WebServer.port``).

    Raises ConfigError when the settings are unfit to mail real people
    (``papercore.config.require_safe_mail``) unless ``dev``, and when the address cannot be
    bound. Notices go through ``transport`` (default: the SMTP relay).
    ``dev`` also logs at info with an access log (else warnings only); ``own_logging`` False
    leaves the log handlers to the caller, ``own_signals`` False leaves SIGTERM and SIGINT to it.
    Both commands share: proxy headers trusted only from ``[web] trusted_proxies``, no
    ``Server`` header, ``clock`` for pages, tokens and notices."""
    example = settings.web.secret_key.get_secret_value() == EXAMPLE_SECRET
    require_safe_mail(settings, dev=dev, command="digest serve")  # it mails notices
    mailer = NoticeMailer(settings, transport or SmtpTransport(settings.smtp), clock=clock)
    web_app = create_app(settings, engine, mailer, clock=clock)
    chosen_host = host or settings.web.host
    chosen_port = settings.web.port if port is None else port
    config = uvicorn.Config(
        web_app,
        # X-Forwarded-* only from [web] trusted_proxies (never FORWARDED_ALLOW_IPS, never loopback)
        proxy_headers=bool(settings.web.trusted_proxies),
        forwarded_allow_ips=list(settings.web.trusted_proxies),
        server_header=False,
        log_level="info" if dev else "warning",
        access_log=dev,
        log_config=uvicorn.config.LOGGING_CONFIG if own_logging else None,
    )
    server = uvicorn.Server(config) if own_signals else _SignalFreeServer(config)
    listener = _listen(chosen_host, chosen_port)
    bound = int(listener.getsockname()[1])
    return WebServer(server, listener, chosen_host, bound, mailer, example, web_app.state.web)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that port 0 can report the port it got."""
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
