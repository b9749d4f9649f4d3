"""``digest preview --serve``: a local page that re-renders on every reload and shows, side by
side, the HTML at desktop width and at 375 px, each in light and dark, the text part, the headers
and the size (an iframe's ``color-scheme`` sets its ``prefers-color-scheme``)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from digest.compose.digest import Composer
from digest.compose.mime import OutgoingMessage
from digest.compose.notices import NOTICES, notice
from digest.personal import preview_digest, preview_subscriber
from papercore.config import Settings
from subscribers import store

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>paper-digest preview</title><style>
body {{ font: 14px system-ui, sans-serif; margin: 0; display: flex; height: 100vh; }}
nav {{ width: 220px; overflow: auto; border-right: 1px solid #ddd; padding: 8px; }}
nav a {{ display: block; padding: 2px 0; }} main {{ flex: 1; overflow: auto; padding: 8px; }}
.row {{ display: flex; gap: 12px; align-items: flex-start; }}
iframe {{ border: 1px solid #ccc; height: 80vh; }} pre {{ white-space: pre-wrap; font-size: 12px; }}
.desktop {{ width: 640px; }} .mobile {{ width: 375px; }} .side {{ width: 420px; }}
.views .row {{ margin-bottom: 12px; }} iframe {{ height: 70vh; }}
.light {{ color-scheme: light; }} .dark {{ color-scheme: dark; }}
</style></head><body><nav><h3>Templates</h3>{templates}<h3>Subscribers</h3>{subscribers}</nav>
<main><h2>{heading}</h2><p id="size">{size}</p><div class="row">
<div class="views"><div class="row">
<iframe class="desktop light" title="Desktop, light" src="{raw}scheme=light"></iframe>
<iframe class="mobile light" title="Mobile, 375 px, light" src="{raw}scheme=light"></iframe></div>
<div class="row"><iframe class="desktop dark" title="Desktop, dark" src="{raw}scheme=dark"></iframe>
<iframe class="mobile dark" title="Mobile, 375 px, dark" src="{raw}scheme=dark"></iframe></div>
</div>
<div class="side"><h3>Headers</h3><pre id="headers">{headers}</pre>
<h3>Text part</h3><pre id="text">{text}</pre></div></div></main></body></html>"""


def in_scheme(page: str, scheme: str | None) -> str:
    """The message's HTML shown in one colour scheme whatever the viewer's own: its dark-mode
    rules always apply ("dark") or never ("light"). An iframe's prefers-color-scheme follows the
    browser's, not the frame's, so the preview decides instead."""
    query = "(prefers-color-scheme: dark)"
    if scheme == "dark":
        return page.replace(query, "all")
    if scheme == "light":
        return page.replace(query, "not all")
    return page


def _headers(message: OutgoingMessage) -> str:
    head = message.data.split(b"\r\n\r\n", 1)[0]
    return head.decode("utf-8", "replace").replace("\r\n", "\n")


def create_preview_app(
    settings: Settings, engine: Engine, now: datetime | None = None
) -> Starlette:
    """The preview app. Nothing is cached: each request builds the next digest as a send
    would and renders it from the template files."""

    def render(request: Request) -> tuple[str, OutgoingMessage]:
        moment = now or datetime.now(UTC)  # as a send's clock: the issue date is UTC's
        composer = Composer(settings)  # fresh: template edits show on reload
        kind = request.query_params.get("template", "digest")
        if kind in NOTICES:
            base = settings.app.base_url
            message = notice(
                kind,
                settings,
                to="preview@example.org",
                action_url=f"{base}/preferences/preview" if kind == "welcome" else base + "/",
                now=moment,
                unsubscribe_url=f"{base}/unsubscribe/preview" if kind == "welcome" else None,
            )
            return f"{kind} notice", message
        email = request.query_params.get("subscriber") or None
        topics = request.query_params.getlist("topic")
        with engine.connect() as connection:
            subscriber = preview_subscriber(connection, email, topics)
        found = preview_digest(engine, settings, subscriber, moment, composer=composer)
        return f"Issue {found.issue.id} for {subscriber.email}", found.message

    def page(request: Request) -> Response:  # sync: Starlette runs it in a thread
        heading, message = render(request)
        with engine.connect() as connection:
            people = list(store.iter_subscribers(connection, batch=200))[:200]
        templates = "".join(f'<a href="/?template={k}">{k}</a>' for k in ("digest", *NOTICES))
        subscribers = "".join(
            f'<a href="/?{html.escape(urlencode({"subscriber": s.email}))}">'
            f"{html.escape(s.email)}</a>"
            for s in people
        )
        size = (
            f"HTML {len(message.html.encode()) / 1024:.1f} KB · "
            f"text {len(message.text.encode()) / 1024:.1f} KB · "
            f"message {len(message.data) / 1024:.1f} KB"
        )
        query = request.url.query
        return HTMLResponse(
            _PAGE.format(
                templates=templates,
                subscribers=subscribers or "<p>none yet</p>",
                heading=html.escape(heading),
                size=size,
                raw="/raw?" + (f"{html.escape(query)}&amp;" if query else ""),
                headers=html.escape(_headers(message)),
                text=html.escape(message.text),
            )
        )

    def raw(request: Request) -> Response:
        return HTMLResponse(in_scheme(render(request)[1].html, request.query_params.get("scheme")))

    return Starlette(routes=[Route("/", page), Route("/raw", raw)])
