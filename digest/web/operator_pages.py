"""Operator pages behind HTTP basic auth (user "operator", password web.operator_password)."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from digest.inbound import store as inbound_store
from digest.inbound.rates import return_rates
from digest.issues import recent_issues
from digest.personal import preview_digest, preview_subscriber
from digest.sending import ledger, outbox
from digest.web.archive_pages import mail_page
from digest.web.ratelimit import client_key
from digest.web.state import Web, client_ip, web_of
from papercore.errors import DigestError
from subscribers import store
from subscribers.model import STATUSES

USER = "operator"
RUNS = 10


def authorised(web: Web, request: Request) -> bool:
    password = web.settings.web.operator_password.get_secret_value()
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if not password or scheme.lower() != "basic":
        return False
    try:
        user, _, given = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user.encode(), USER.encode()) & hmac.compare_digest(
        given.encode(), password.encode()
    )


async def login(web: Web, request: Request) -> Response | None:
    """None when the request carries the operator's password; else the response to send: 404
    without a password, the basic-auth challenge without credentials or with wrong ones, 429
    (with Retry-After) while the client's address must wait.

    Throttled per client address only (``client_ip`` honours ``[web] trusted_proxies``), with
    exponential backoff recorded in the database and shared by every web process
    (``ratelimit.Backoff``). An address that has not failed always has its password checked,
    so no number of strangers can lock out the right password from the operator's address;
    a wave of failures from many addresses only shortens every address's free tries."""
    if not web.settings.web.operator_password.get_secret_value():
        return challenge(web)
    if "authorization" not in request.headers:  # a browser's first request: not a try
        return challenge(web)
    key, at = client_key(client_ip(request)), web.clock().timestamp()
    wait = await run_in_threadpool(web.operator_login.attempt, key, at)
    if wait > 0:
        seconds = math.ceil(wait)
        refused = web.message(
            "Too many attempts",
            f"Too many wrong passwords from your address; try again in {seconds} seconds.",
            429,
        )
        refused.headers["Retry-After"] = str(seconds)
        return refused
    if authorised(web, request):
        await run_in_threadpool(web.operator_login.succeeded, key)
        return None
    await run_in_threadpool(web.operator_login.failed, key, at)
    return challenge(web)


def inert(html: str, base_url: str) -> str:
    """``html`` with every link that carries a subscriber's token (feedback, unsubscribe,
    preferences, view) made harmless: the operator sees the digest, not their live links."""
    pattern = re.escape(base_url) + r"/(?:feedback|unsubscribe|preferences|view)/[A-Za-z0-9_.\-]+"
    return re.sub(pattern, "#preview", html)


def challenge(web: Web) -> Response:
    if not web.settings.web.operator_password.get_secret_value():
        return PlainTextResponse("Not Found", status_code=404)  # no password: no operator pages
    return PlainTextResponse(
        "operator login required",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="paper-digest operator", charset="UTF-8"'},
    )


def _dashboard(web: Web) -> dict[str, Any]:
    with web.engine.connect() as connection:
        counts = store.count_by_status(connection)
        runs = [
            {
                "id": issue.id,
                "date": issue.date,
                "frequency": issue.frequency,
                "status": issue.status,
                "pause_reason": issue.pause_reason,
                "deliveries": ledger.counts(connection, issue.id),
            }
            for issue in recent_issues(connection, RUNS)
        ]
        suppressed = store.suppression_count(connection)
        returned = return_rates(connection, web.clock())
        kept = inbound_store.kept(connection, 20)
        notices, notice_problems = outbox.counts(connection), outbox.problems(connection)
    return {
        "returned": returned,
        "kept": kept,
        "outbox": notices,
        "outbox_problems": notice_problems,
        "counts": [(s, counts.get(s, 0)) for s in STATUSES],
        "suppressed": suppressed,
        "runs": runs,
        "delivery_statuses": ledger.STATUSES,
    }


async def dashboard(request: Request) -> Response:
    web = web_of(request)
    refused = await login(web, request)
    if refused is not None:
        return refused
    return web.page("operator.html", **await run_in_threadpool(_dashboard, web))


MAX_TOPICS = 20


async def preview(request: Request) -> Response:
    """The next digest as a send now would build it: for ``?subscriber=EMAIL``, else for
    ``?topic=...`` (repeatable) or ``?topics=`` (one per line), else, once the form is sent
    (``show``), the trending digest (``digest.personal.preview_digest``). With none of them:
    the form with those fields."""
    web = web_of(request)
    refused = await login(web, request)
    if refused is not None:
        return refused
    query = request.query_params
    email = query.get("subscriber", "").strip()[:320] or None
    typed = query.get("topics", "")[:2000]
    topics = [t.strip() for t in [*query.getlist("topic"), *typed.splitlines()] if t.strip()]
    if not (email or topics or "show" in query):
        return _preview_form(web)
    if email and topics:
        return _preview_form(
            web, email, typed, "Give a subscriber or topics, not both.", status_code=422
        )

    def render() -> str:
        with web.engine.connect() as connection:
            person = preview_subscriber(connection, email, topics[:MAX_TOPICS])
        html = preview_digest(web.engine, web.settings, person, web.clock()).message.html
        return inert(html, web.base_url)

    try:
        html = await run_in_threadpool(render)
    except DigestError as exc:
        return _preview_form(web, email or "", typed, exc.one_line(), status_code=404)
    return mail_page(html)


def _preview_form(
    web: Web, subscriber: str = "", topics: str = "", error: str = "", status_code: int = 200
) -> Response:
    return web.page(
        "operator_preview.html",
        status_code,
        subscriber=subscriber,
        topics=topics,
        error=error,
    )


routes = [
    Route("/operator", dashboard, methods=["GET"]),
    Route("/operator/preview", preview, methods=["GET"]),
]
