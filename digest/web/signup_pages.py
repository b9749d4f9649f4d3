"""The signup page (/) and the double opt-in confirmation (/confirm/<token>)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.paper_store import SeedShelf, list_papers
from digest.schedule.outlook import next_digest, promise
from digest.sending.notice_mail import Notice
from digest.web.forms import FormErrors, read_signup
from digest.web.signup_sent import https, sent_redirect
from digest.web.standing_pages import stale_link
from digest.web.state import Web, client_ip, user_agent, web_of
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import signup
from subscribers.keyphrases import suggest_topics
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from subscribers.seeding import SeedLimits, SeedPlan, look_up
from subscribers.tokens import BadToken

log = logging.getLogger("digest.web")
HONEYPOT = "website"
TIMEZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
SUGGESTIONS_TTL = 600.0


def confirm_url(
    web: Web, person: Subscriber, new_email: str | None = None, nonce: str | None = None
) -> str:
    """The signed, expiring confirmation link (for a new address when ``new_email`` is set;
    for the signup submission ``nonce`` names otherwise)."""
    extra: dict[str, object] = {"v": person.token_version}
    if new_email is not None:
        extra["email"] = new_email
    if nonce is not None:
        extra["n"] = nonce
    token = web.signer.make(
        "confirm",
        person.id,
        now=web.clock(),
        ttl_seconds=web.settings.web.confirm_token_days * 86400,
        extra=extra,
    )
    return f"{web.base_url}/confirm/{token}"


def topic_suggestions(web: Web) -> list[str]:
    """Topics this week's papers share (first seen in the last 7 days), cached for 10 minutes."""
    cached: tuple[float, list[str]] | None = web.caches.get("suggestions")
    if cached and time.monotonic() - cached[0] < SUGGESTIONS_TTL:
        return cached[1]
    week_ago = web.clock() - timedelta(days=7)
    with web.engine.connect() as connection:
        recent = list_papers(connection, since=week_ago.date(), limit=500)
    found = suggest_topics(recent, limit=12, seen_since=week_ago)
    web.caches["suggestions"] = (time.monotonic(), found)
    return found


def first_digest_text(web: Web, person: Subscriber) -> str:
    """When their next digest comes, in their own time zone, as a sentence: the scheduler's
    own answer (``outlook.next_digest``), "first" only before their first, "email" only when
    it is mailed."""
    zone = web.settings.schedule.default_timezone
    with web.engine.connect() as connection:
        coming = next_digest(connection, person, web.clock(), zone)
    return promise(coming, zone)


def subscription_facts(web: Web, person: Subscriber) -> dict[str, Any]:
    """What the welcome and manage mails and the subscribed page repeat back to them."""
    return {
        "topics": list(person.topics),
        "first_digest": first_digest_text(web, person),
        "paused": person.status == "paused",
    }


async def _form_page(
    web: Web,
    request: Request,
    status_code: int = 200,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    browser = web.csrf.browser_id(request)
    schedule = web.settings.schedule
    values: dict[str, Any] = {
        "email": "",
        "topics": "",
        "papers": "",
        "frequency": "daily",
        "weekday": "0",
        "hour": str(schedule.default_hour),
        "timezone": schedule.default_timezone,
    }
    chosen: list[str] = []
    if form is not None:  # exactly what they typed (the body limit bounds it), never cut
        values |= {k: str(form.get(k, "")) for k in values}
        chosen = [str(v) for v in form.getlist("suggested")]
    response = web.page(
        "signup.html",
        status_code,
        csrf_token=web.csrf.token(browser, web.clock()),
        values=values,
        chosen=chosen,
        errors=errors or {},
        notice=notice,
        suggestions=await run_in_threadpool(topic_suggestions, web),
        weekdays=signup.WEEKDAYS,
        timezones=TIMEZONES,
        keep_timezone=form is not None,  # a re-shown form keeps what they chose, even "UTC"
        privacy_url=web.settings.web.privacy_url or "/privacy",
    )
    web.csrf.remember(request, response, browser)
    return response


async def signup_form(request: Request) -> Response:
    return await _form_page(web_of(request), request)


async def signup_submit(request: Request) -> Response:
    web = web_of(request)
    now = web.clock()
    form = await request.form(max_files=0, max_fields=200)
    try:
        shown_at = web.csrf.check(request, form, now)
    except BadToken:
        errors = {"form": "This form expired. Please check it and send it again."}
        return await _form_page(web, request, 403, form, errors)
    if not await run_in_threadpool(web.per_ip.allow, client_ip(request), now.timestamp()):
        return web.message("Too many signups", "Please try again in an hour.", 429)
    if form.get(HONEYPOT):
        log.info("signup dropped: honeypot filled")
        return sent_redirect(web, https(request), str(form.get("email", ""))[:320])
    if now.timestamp() - shown_at < web.settings.web.signup_min_seconds:
        log.info("signup held: form sent %.1fs after it was shown", now.timestamp() - shown_at)
        fast = "That was fast! Please check your details and press Subscribe again."
        return await _form_page(web, request, 200, form, notice=fast)
    try:
        wanted = await run_in_threadpool(read_signup, form)  # a seed list: parsed off the loop
    except FormErrors as exc:
        return await _form_page(web, request, 422, form, exc.fields)
    if not await run_in_threadpool(web.per_address.allow, wanted.email, now.timestamp()):
        return web.message("Too many signups", "Please try again tomorrow.", 429)

    def record() -> SeedPlan | None:
        with transaction(web.engine) as connection:
            outcome = signup.request_signup(
                connection, wanted, now, ip=client_ip(request), user_agent=user_agent(request)
            )
            mail = signup_notice(web, wanted.email, outcome)
            if mail is not None:  # saved with the signup: a crash after the commit loses nothing
                web.queue(connection, mail)
            return _seed(web.settings, connection, wanted, outcome, now)

    plan = await run_in_threadpool(record)
    seeded = plan.summary(on_confirming=True) if plan else ""
    sent = sent_redirect(web, https(request), wanted.email, seeded, plan.missing if plan else ())
    return web.send_after(sent)  # the same page and the same work, known address or not


def signup_notice(web: Web, email: str, outcome: signup.SignupOutcome) -> Notice | None:
    """The mail a signup sends: a link to manage an active or paused subscription, else a
    confirmation link for this submission (to a suppressed address too: it is the mail the
    person asked for, and only its click lifts the suppression), saying why mail had stopped
    if it had."""
    if outcome.manage is not None:
        return manage_notice(web, outcome.manage)
    if not outcome.send_confirmation or outcome.subscriber_id is None:
        return None
    person = Subscriber(outcome.subscriber_id, email, token_version=outcome.token_version)
    return Notice(
        "confirm",
        email,
        {"confirm": confirm_url(web, person, nonce=outcome.nonce)},
        {"returning": signup.returning_text(outcome.returning)},
    )


def manage_notice(web: Web, person: Subscriber) -> Notice:
    """The mail for a signup with an address that is already active or paused."""
    links = links_for(web, person)
    return Notice(
        "manage",
        person.email,
        {"preferences": links.preferences, "unsubscribe": links.unsubscribe},
        subscription_facts(web, person),
    )


def _seed(
    settings: Settings,
    connection: Connection,
    wanted: signup.SignupRequest,
    outcome: signup.SignupOutcome,
    now: datetime,
) -> SeedPlan | None:
    """Look up the papers the form listed, for the page. Nothing is liked yet: the signup's
    submission keeps the list and confirming its link likes them, so that the page says the
    same whatever the address and nobody but the address's owner can change its profile."""
    if not wanted.papers.cited and not wanted.papers.unreadable:
        return None
    return look_up(SeedShelf(connection), wanted.papers, SeedLimits.from_settings(settings.ranking))


async def confirm_page(request: Request) -> Response:
    """GET shows what they are agreeing to and one button; POST (with CSRF) records it. Link
    scanners that fetch every URL in a mail therefore cannot subscribe anyone."""
    web = web_of(request)
    token = request.path_params["token"]
    claims = web.claims(token, "confirm")
    if claims is None or not claims.subject.isdigit():
        return web.bad_link()
    subscriber_id, version = int(claims.subject), int(claims.extra.get("v", 0))
    new_email = claims.extra.get("email")
    nonce = claims.extra.get("n")
    nonce = nonce if isinstance(nonce, str) else None

    def load() -> signup.PendingLink | None:
        with web.engine.connect() as connection:
            return signup.pending_link(connection, subscriber_id, version, nonce)

    found = await run_in_threadpool(load)
    if found is None:  # signed by us: say where they stand (unsubscribed, replaced, ...)
        return await stale_link(web, token, "confirm")
    person = found.person
    if request.method == "POST":
        return await _confirm(web, request, person, token, new_email, nonce)
    if new_email is None and person.status != "pending":
        return _subscribed_page(web, person, again=True)
    browser = web.csrf.browser_id(request)
    response = web.page(
        "confirm.html",
        token=token,
        csrf_token=web.csrf.token(browser, web.clock()),
        new_email=new_email,
        wording=signup.consent_wording(web.settings.app.name, person),
        returning=signup.returning_text(found.returning),
        learned=len(person.examples),  # a returning person chooses: keep it or start fresh
    )
    web.csrf.remember(request, response, browser)
    return response


async def _confirm(
    web: Web,
    request: Request,
    person: Subscriber,
    token: str,
    new_email: object,
    nonce: str | None,
) -> Response:
    now = web.clock()
    form = await request.form(max_files=0, max_fields=20)
    try:
        web.csrf.check(request, form, now)
    except BadToken:
        return web.message(
            "Please try again", "This page expired. Open the link from your email again.", 403
        )
    ip, agent = client_ip(request), user_agent(request)
    # unticking "keep what you taught it" (shown only to someone with earlier marks) forgets them
    keep_learned = form.get("learning_asked") != "yes" or form.get("keep_learned") == "yes"

    def activate() -> signup.Confirmation | Subscriber | None:
        with transaction(web.engine) as connection:
            if isinstance(new_email, str):
                moved = signup.confirm_address_change(
                    connection,
                    person.id,
                    person.token_version,
                    new_email,
                    now,
                    ip=ip,
                    user_agent=agent,
                )
                if moved is not None:  # the old address hears of it, in the same transaction
                    web.queue(connection, moved_notice(web, person.email, moved.email))
                return moved
            done = signup.confirm(
                connection,
                person.id,
                person.token_version,
                now,
                nonce=nonce,
                app_name=web.settings.app.name,
                shelf=SeedShelf(connection),
                seed_limits=SeedLimits.from_settings(web.settings.ranking),
                ip=ip,
                user_agent=agent,
                keep_learned=keep_learned,
            )
            if done is not None and done.newly_active:
                welcome = welcome_notice(web, done.subscriber, done.learning_text())
                web.queue(connection, welcome)
            return done

    done = await run_in_threadpool(activate)
    if done is None:
        return await stale_link(web, token, "confirm")
    if isinstance(done, Subscriber):
        return web.send_after(
            web.message(
                "Address changed",
                f"Your digest now goes to {done.email}.",
                link=links_for(web, done).preferences,
                link_text="Your preferences",
            )
        )
    page = _subscribed_page(
        web,
        done.subscriber,
        again=not done.newly_active,
        returning=signup.returning_text(done.returning, confirmed=True),
        learning=done.learning_text(),
    )
    return web.send_after(page) if done.newly_active else page


def welcome_notice(web: Web, person: Subscriber, learning: str = "") -> Notice:
    """The mail once a subscription is confirmed: their topics, when the first digest comes,
    and (``learning``) what became of what an earlier subscription learned."""
    links = links_for(web, person)
    return Notice(
        "welcome",
        person.email,
        {
            "preview": links.view_in_browser,
            "preferences": links.preferences,
            "unsubscribe": links.unsubscribe,
            "archive": links.archive,
        },
        subscription_facts(web, person) | {"learning": learning},
    )


def moved_notice(web: Web, old_email: str, new_email: str) -> Notice:
    """The receipt mailed to the old address after a change: where it went, masked."""
    return Notice(
        "address_moved",
        old_email,
        {"signup": f"{web.base_url}/"},
        {"new_address": signup.masked(new_email)},
    )


def links_for(web: Web, person: Subscriber, issue_id: int | None = None) -> SubscriberLinks:
    return SubscriberLinks(
        web.base_url, web.signer, person.id, person.token_version, issue_id, web.clock()
    )


def _subscribed_page(
    web: Web, person: Subscriber, again: bool, returning: str = "", learning: str = ""
) -> Response:
    return web.page(
        "subscribed.html",
        again=again,
        returning=returning,
        learning=learning,
        email=person.email,
        schedule=signup.schedule_text(
            person.frequency, person.weekday, person.hour, person.timezone
        ),
        preferences=links_for(web, person).preferences,
        **subscription_facts(web, person),
    )


async def privacy_page(request: Request) -> Response:
    """What we keep about subscribers and why (linked from the signup form)."""
    return web_of(request).page("privacy.html")


routes = [
    Route("/", signup_form, methods=["GET"]),
    Route("/", signup_submit, methods=["POST"]),
    Route("/confirm/{token}", confirm_page, methods=["GET", "POST"]),
    Route("/privacy", privacy_page, methods=["GET"]),
]
