"""What every page handler needs: settings, database, mailer, signer, templates, clock, limits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, Engine
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from digest.compose.cards import CardView, card_view
from digest.compose.environment import builtin_templates_dir
from digest.compose.text import clean
from digest.sending import outbox
from digest.sending.notice_mail import Mailer, Notice
from digest.sending.outbox_sender import drain_outbox
from digest.web.assets import asset_url
from digest.web.csrf import Csrf
from digest.web.ratelimit import Backoff, BackoffPolicy, RateLimiter
from papercore.config import Settings
from papercore.papers import Paper
from subscribers.tokens import BadToken, Claims, Signer

log = logging.getLogger("digest.web")
LINK_FORM_TTL = 6 * 3600  # how long a "send me a new link" form may sit open


def web_templates_dir(settings: Settings) -> Path:
    """``web/`` in the configured templates folder when it has one, else the built-in one (the
    same folders digest.compose uses for ``email/``)."""
    configured = settings.templates.dir
    if configured is not None and (configured / "web" / "base.html").is_file():
        return configured / "web"
    return builtin_templates_dir() / "web"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Web:
    settings: Settings
    engine: Engine
    mailer: Mailer
    clock: Callable[[], datetime] = utc_now
    templates_dir: Path | None = None
    # how a page builds a paper's card (each page builds one per paper per request)
    card_view: Callable[[Paper], CardView] = card_view
    signer: Signer = field(init=False)
    csrf: Csrf = field(init=False)
    env: Environment = field(init=False)
    per_ip: RateLimiter = field(init=False)
    per_address: RateLimiter = field(init=False)
    operator_login: Backoff = field(init=False)
    # Per-app caches (topic suggestions, public issues): on the app, never keyed by id(), which
    # a later app may reuse once this one is gone.
    caches: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        web = self.settings.web
        self.signer = Signer.from_settings(web)
        self.csrf = Csrf(self.signer)
        self.templates_dir = self.templates_dir or web_templates_dir(self.settings)
        self.env = Environment(
            loader=FileSystemLoader(self.templates_dir),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["asset"] = asset_url(self.templates_dir / "static")
        self.env.filters["readable"] = clean  # a paper's stored text, LaTeX made readable
        secret = web.secret_key.get_secret_value()
        self.per_ip = RateLimiter(
            self.engine, "signup-ip", web.signup_per_ip_per_hour, 3600, secret
        )
        self.per_address = RateLimiter(
            self.engine, "signup-address", web.signup_per_address_per_day, 86400, secret
        )
        # operator logins: backoff per client address, never a lockout (digest/web/ratelimit.py)
        policy = BackoffPolicy(
            free=web.operator_free_failures,
            first=web.operator_backoff_seconds,
            longest=web.operator_backoff_max_seconds,
            crowd=web.operator_failures_per_hour,
        )
        self.operator_login = Backoff(self.engine, "operator-login", policy, secret)

    @property
    def base_url(self) -> str:
        return self.settings.app.base_url

    def page(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render templates/web/<name> with the site-wide values."""
        values = {
            "app_name": self.settings.app.name,
            "lang": self.settings.app.lang,
            "operator_name": self.settings.sender.operator_name,
            "postal_address": self.settings.sender.postal_address,
        } | context
        return HTMLResponse(self.env.get_template(name).render(values), status_code=status_code)

    def bad_link(self) -> HTMLResponse:
        return self.message(
            "This link does not work",
            "It is invalid, has expired, or was replaced by a newer one. "
            "Please use the link in your most recent email.",
            status_code=400,
            new_link=True,  # message.html offers "send me a new link"
        )

    def message(self, title: str, text: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
        if extra.get("new_link"):  # the "send me a new link" form (POST /link) needs its token
            extra["link_form_token"] = self.signer.make(
                "link-form", "new-link", now=self.clock(), ttl_seconds=LINK_FORM_TTL
            )
        return self.page("message.html", status_code, title=title, text=text, **extra)

    def error_page(self, error_id: str) -> HTMLResponse:
        """The styled 500 page; ``error_id`` is the one the log names with the traceback."""
        return self.message(
            "Something went wrong",
            f"This request could not be handled; it was logged as error {error_id}. "
            "Please try again later, or tell the operator this id.",
            500,
        )

    def claims(self, token: str, purpose: str) -> Claims | None:
        try:
            return self.signer.read(token, purpose, now=self.clock())
        except BadToken:
            return None

    def queue(self, connection: Connection, notice: Notice) -> None:
        """Write ``notice`` to the outbox in the caller's transaction, the one that saves the
        change it tells about: both are committed or neither, so a crash cannot lose the mail
        (``digest serve``, the scheduler and ``send_after`` drain it)."""
        outbox.enqueue(connection, notice.kind, notice.to, notice.links, notice.facts, self.clock())

    def send_after(self, response: Response) -> Response:
        """Drain the outbox once the response is written: the page never waits for SMTP, and a
        failure is retried with backoff and shown on /operator."""
        response.background = BackgroundTask(self._send)
        return response

    async def _send(self) -> None:
        try:
            await drain_outbox(self.engine, self.mailer, self.settings, self.clock)
        except Exception:  # a failed drain must not fail the page; the next one retries
            log.exception("could not drain the outbox")


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")
