"""The web app factory: signup, confirmation, preferences, unsubscribe, feedback, archive and
operator pages, with CSRF, rate limits and security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from digest.sending.notice_mail import Mailer
from digest.web import (
    account_pages,
    archive_pages,
    feed_pages,
    learning_pages,
    link_pages,
    operator_pages,
    paper_pages,
    signup_pages,
    signup_sent,
    webhooks,
)
from digest.web.assets import CachedStatic
from digest.web.errors import ErrorPage
from digest.web.headers import BodyLimit, CanonicalHost, SecurityHeaders
from digest.web.state import Web, utc_now, web_of
from papercore.config import Settings


def create_app(
    settings: Settings,
    engine: Engine,
    mailer: Mailer,
    *,
    clock: Callable[[], datetime] = utc_now,
    templates_dir: Path | None = None,
) -> Starlette:
    """The ASGI app. ``clock`` is the time pages and tokens use; ``templates_dir`` overrides
    the templates/web folder."""
    web = Web(settings, engine, mailer, clock=clock, templates_dir=templates_dir)
    assert web.templates_dir is not None
    routes = [
        *signup_pages.routes,
        *signup_sent.routes,
        *account_pages.routes,
        *learning_pages.routes,
        *link_pages.routes,
        *feed_pages.routes,  # before archive_pages: /view/<t>.json ahead of /view/<t>
        *archive_pages.routes,
        *paper_pages.routes,
        *operator_pages.routes,
        *webhooks.routes,
        Route("/favicon.ico", _no_icon, methods=["GET"]),
        Mount("/static", CachedStatic(directory=web.templates_dir / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, https=settings.app.base_url.startswith("https://")),
            Middleware(ErrorPage, render=web.error_page),
            Middleware(CanonicalHost, base_url=settings.app.base_url),
            Middleware(BodyLimit),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.web = web
    return app


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


async def _http_error(request: Request, exc: Exception) -> Response:
    web = web_of(request)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    titles = {404: "Not found", 405: "Not allowed"}
    return web.message(
        titles.get(status, "Something went wrong"),
        "There is nothing here." if status == 404 else "This request cannot be handled.",
        status,
    )
