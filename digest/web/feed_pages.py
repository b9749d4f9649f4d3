"""A subscriber's digest anywhere: /feed/<token>.atom (their shown issues as Atom 1.0, with
ETag / Last-Modified and 304 answers), /view/<token>.json (one issue as JSON) and
POST /preferences/<token>/feed (a new feed URL; the old one stops working).

The feed token is purpose-bound ("feed") and carries the subscriber's feed_version; it works
while they are active or paused, and stops when they unsubscribe, bounce or are forgotten."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.compose import IssueInfo
from digest.compose.plan import DigestPlan
from digest.paper_store import get_papers
from digest.personal import preview_digest
from digest.sending.ledger.feed import ShownIssue, shown_issue, shown_issues
from digest.web.account_pages import account_form, holder, preferences_page, write
from digest.web.feed_view import Cards, ShownDigest, ShownPaper, atom_feed, issue_json
from digest.web.signup_pages import links_for
from digest.web.state import Web, web_of
from papercore.errors import NotFound
from subscribers import store
from subscribers.links import feed_link
from subscribers.model import Subscriber

FEED_ISSUES = 30  # the newest issues a feed lists
FEED_STATUSES = ("active", "paused")
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def feed_url(web: Web, person: Subscriber) -> str:
    """The subscriber's current feed URL (stable until they ask for a new one)."""
    return feed_link(web.base_url, web.signer, person.id, person.feed_version, web.clock())


def shown_plan(connection: Connection, shown: ShownIssue) -> DigestPlan:
    """The plan of an issue as the subscriber was shown it, over the papers still stored: what
    /view/<token>, its JSON and the feed show, laid out as the mail was."""
    return shown.layout.plan(shown.paper_ids, get_papers(connection, list(shown.paper_ids)))


def shown_digest(
    web: Web,
    person: Subscriber,
    issue: IssueInfo,
    at: datetime,
    laid_out: DigestPlan,
    cards: Cards,
) -> ShownDigest:
    """One issue's plan with its cards (from the request's ``cards``) and the subscriber's own
    links: papers in the plan's order, with its headings and reasons."""
    links = links_for(web, person, issue.id)
    papers = tuple(
        ShownPaper(
            card.paper,
            cards.of(card.paper),
            card.why,
            links.feedback(card.paper.id, True),
            links.feedback(card.paper.id, False),
            card.heading,
        )
        for card in laid_out.cards
    )
    return ShownDigest(
        issue.id, issue.date.isoformat(), issue.frequency, at, links.view_in_browser, papers
    )


def _digest(
    web: Web, connection: Connection, person: Subscriber, shown: ShownIssue, cards: Cards
) -> ShownDigest:
    """One shown issue as the ledger recorded it (its papers still stored)."""
    info = IssueInfo(shown.issue_id, shown.issue_date, shown.frequency)
    return shown_digest(web, person, info, shown.at, shown_plan(connection, shown), cards)


def _feed_holder(web: Web, token: str) -> Subscriber | None:
    """The subscriber a valid feed token names, if that feed URL is current and still serves."""
    claims = web.claims(token, "feed")
    if claims is None or not claims.subject.isdigit():
        return None
    with web.engine.connect() as connection:
        try:
            person = store.get(connection, int(claims.subject))
        except NotFound:  # forgotten
            return None
    if person.status not in FEED_STATUSES or claims.extra.get("f") != person.feed_version:
        return None
    return person


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    """RFC 9110 section 13.1: If-None-Match wins; else If-Modified-Since (second precision)."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and int(modified.timestamp()) <= int(when.timestamp())


async def feed(request: Request) -> Response:
    web = web_of(request)

    def render() -> tuple[bytes, datetime] | None:
        person = _feed_holder(web, request.path_params["token"])
        if person is None:
            return None
        with web.engine.connect() as connection:
            shown = shown_issues(connection, person.id, FEED_ISSUES)
            cards = Cards(web.card_view)  # one card per paper for the whole feed
            digests = [_digest(web, connection, person, s, cards) for s in shown]
        since = person.confirmed_at or person.created_at or web.clock()
        body = atom_feed(
            app_name=web.settings.app.name,
            base_url=web.base_url,
            feed_url=feed_url(web, person),
            feed_key=hashlib.sha256(f"feed:{person.id}".encode()).hexdigest()[:16],
            since=since,
            digests=digests,
        )
        return body, max((d.at for d in digests), default=since)

    found = await run_in_threadpool(render)
    if found is None:
        return web.message("Not found", "This feed does not exist or has been replaced.", 404)
    body, modified = found
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified.replace(microsecond=0), usegmt=True),
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
    }
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ATOM_TYPE, headers=headers)


def _json(data: object, status_code: int = 200) -> Response:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    headers = {"Cache-Control": "private, no-cache", "X-Robots-Tag": "noindex"}
    return Response(text, status_code, headers, media_type="application/json")


async def view_json(request: Request) -> Response:
    """One issue as the subscriber got it (or, for the welcome mail's link, their next one)."""
    web = web_of(request)
    found = await holder(web, request.path_params["token"], "view")
    if found is None:
        return _json({"error": "this link is not valid (expired, replaced or mistyped)"}, 404)
    person, claims = found
    issue_id = claims.extra.get("i")

    def load() -> ShownDigest | None:
        cards = Cards(web.card_view)
        if not isinstance(issue_id, int):
            return _next_digest(web, person, cards)
        with web.engine.connect() as connection:
            shown = shown_issue(connection, issue_id, person.id)
            return _digest(web, connection, person, shown, cards) if shown is not None else None

    digest = await run_in_threadpool(load)
    if digest is None:
        return _json({"error": "no papers for this issue"}, 404)
    return _json(issue_json(digest))


def _next_digest(web: Web, person: Subscriber, cards: Cards) -> ShownDigest:
    """The preview of the subscriber's next digest, as /view/<token> shows it."""
    now = web.clock()
    preview = preview_digest(web.engine, web.settings, person, now)
    return shown_digest(web, person, preview.issue, now, preview.plan, cards)


async def new_feed_url(request: Request) -> Response:
    """A new feed URL for the subscriber; every older one stops working at once."""
    expired = "This page expired. Please press “New feed URL” again."
    web, person, token, form = await account_form(request, expired)
    if isinstance(form, Response):
        return form
    now = web.clock()

    def bump(connection: Connection) -> int:
        current = store.get(connection, person.id).feed_version
        store.update_fields(connection, person.id, now, feed_version=current + 1)
        return current + 1

    version = await write(web, bump)
    notice = "Your feed has a new address. The old one has stopped working."
    renewed = replace(person, feed_version=version)
    return await preferences_page(web, request, renewed, token, notice=notice)


routes = [
    Route("/feed/{token}.atom", feed, methods=["GET"]),
    Route("/view/{token}.json", view_json, methods=["GET"]),
    Route("/preferences/{token}/feed", new_feed_url, methods=["POST"]),
]
