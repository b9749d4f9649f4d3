"""Pages behind a subscriber's signed links: preferences and unsubscribe (feedback and what
the ranking learned: learning_pages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote_plus

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.paper_store import get_papers
from digest.sending.notice_mail import Notice
from digest.web.forms import FormErrors, read_preferences
from digest.web.signup_pages import (
    TIMEZONES,
    confirm_url,
    first_digest_text,
    links_for,
    topic_suggestions,
)
from digest.web.standing_pages import stale_link
from digest.web.state import Web, client_ip, user_agent, web_of
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import signup
from subscribers.links import feed_link
from subscribers.model import SeedText, Subscriber
from subscribers.preferences import (
    PreferenceChange,
    address_change_allowed,
    apply_preferences,
)
from subscribers.tokens import BadToken, Claims
from subscribers.unsubscribe import unsubscribe

T = TypeVar("T")
SAVED = {
    "yes": "Saved.",
    "moving": "Saved. To move your digest to the new address, click the link we sent there; "
    "until then it keeps coming here.",
}
ONE_CLICK = "List-Unsubscribe=One-Click"


async def holder(web: Web, token: str, purpose: str) -> tuple[Subscriber, Claims] | None:
    """The subscriber a valid, unrevoked token for ``purpose`` names."""
    claims = web.claims(token, purpose)
    if claims is None or not claims.subject.isdigit():
        return None
    version = claims.extra.get("v")
    if not isinstance(version, int):
        return None

    def load() -> Subscriber | None:
        with web.engine.connect() as connection:
            return signup.current_subscriber(connection, int(claims.subject), version)

    person = await run_in_threadpool(load)
    return (person, claims) if person is not None else None


async def preferences_holder(web: Web, token: str) -> Subscriber | None:
    """The subscriber a valid preferences link names, while their account is theirs to change:
    not unsubscribed, bounced, or still to confirm."""
    found = await holder(web, token, "preferences")
    if found is None or found[0].status in ("unsubscribed", "bounced", "pending"):
        return None
    return found[0]


async def write(web: Web, work: Callable[..., T]) -> T:
    def run() -> T:
        with transaction(web.engine) as connection:
            return work(connection)

    return await run_in_threadpool(run)


@dataclass(frozen=True, slots=True)
class Learned:
    """One example as the preferences page lists it."""

    paper_id: str
    title: str
    link: str
    more: bool
    at: datetime


def _learned(web: Web, person: Subscriber) -> list[Learned]:
    """The subscriber's examples with their papers' titles, newest first."""
    with web.engine.connect() as connection:
        found = get_papers(connection, [e.paper_id for e in person.examples if e.seed is None])
    for e in person.examples:  # a private seed is shown with the text their list gave
        if e.seed is not None:
            found[e.paper_id] = Paper(e.paper_id, e.seed.title, page_url=_seed_link(e.seed))
    rows = [
        Learned(e.paper_id, found[e.paper_id].title, found[e.paper_id].link, e.vote > 0, e.at)
        for e in person.examples
        if e.paper_id in found
    ]
    return sorted(rows, key=lambda r: r.at, reverse=True)


def _seed_link(seed: SeedText) -> str:
    """Where a private seed links: its arXiv page, else an arXiv search for its title."""
    if seed.arxiv:
        return f"https://arxiv.org/abs/{seed.arxiv}"
    return "https://arxiv.org/search/?searchtype=title&query=" + quote_plus(seed.title[:300])


async def preferences_page(
    web: Web,
    request: Request,
    person: Subscriber,
    token: str,
    status_code: int = 200,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    details: tuple[str, ...] = (),
) -> Response:
    """The preferences form, what the ranking learned from clicks, and the seed-list form."""
    learned = await run_in_threadpool(_learned, web, person)
    browser = web.csrf.browser_id(request)
    values = {
        "topics": "\n".join(person.topics),
        "authors": "\n".join(person.authors),
        "mutes": "\n".join(person.mutes),
        "frequency": person.frequency,
        "weekday": str(person.weekday),
        "hour": str(person.hour),
        "timezone": person.timezone,
        "paused": "yes" if person.status == "paused" else "",
        "email": "",
    }
    if form is not None:
        values |= {k: str(form.get(k, "")) for k in values}  # as typed, never cut
    links = links_for(web, person)
    response = web.page(
        "preferences.html",
        status_code,
        token=token,
        csrf_token=web.csrf.token(browser, web.clock()),
        person=person,
        values=values,
        errors=errors or {},
        notice=notice,
        details=details,
        learned=learned,
        weekdays=signup.WEEKDAYS,
        unsubscribe=links.unsubscribe,
        suggestions=[
            s for s in await run_in_threadpool(topic_suggestions, web) if s not in person.topics
        ],
        chosen=[str(v) for v in form.getlist("suggested")] if form is not None else [],
        timezones=TIMEZONES,
        keep_timezone=True,  # their saved zone, never the browser's guess
        first_digest=await run_in_threadpool(first_digest_text, web, person),
        feed_url=feed_link(web.base_url, web.signer, person.id, person.feed_version, web.clock()),
    )
    web.csrf.remember(request, response, browser)
    return response


async def account_form(
    request: Request, expired: str, max_files: int = 0
) -> tuple[Web, Subscriber, str, FormData | Response]:
    """The subscriber behind a preferences link and the form POSTed to one of its buttons once
    its CSRF token holds; instead of the form, a ready response when it does not (the page
    again, with ``expired`` as the form's error) or when the link is no longer theirs."""
    web = web_of(request)
    token = request.path_params["token"]
    person = await preferences_holder(web, token)
    if person is None:
        return web, Subscriber(0, ""), token, await stale_link(web, token, "preferences")
    form = await request.form(max_files=max_files, max_fields=20)
    try:
        web.csrf.check(request, form, web.clock())
    except BadToken:
        page = await preferences_page(web, request, person, token, 403, None, {"form": expired})
        return web, person, token, page
    return web, person, token, form


async def preferences(request: Request) -> Response:
    web = web_of(request)
    token = request.path_params["token"]
    person = await preferences_holder(web, token)
    if person is None:  # an old link of theirs says where they stand; a forged one nothing
        return await stale_link(web, token, "preferences")
    if request.method == "GET":
        said = SAVED.get(request.query_params.get("saved", ""), "")
        return await preferences_page(web, request, person, token, notice=said)
    now = web.clock()
    form = await request.form(max_files=0, max_fields=200)
    try:
        web.csrf.check(request, form, now)
    except BadToken:
        errors = {"form": "This page expired. Please check your changes and save again."}
        return await preferences_page(web, request, person, token, 403, form, errors)
    try:
        change = read_preferences(form, person.email)
    except FormErrors as exc:
        return await preferences_page(web, request, person, token, 422, form, exc.fields)
    ip, agent = client_ip(request), user_agent(request)

    def save(connection: Connection) -> None:
        saved = apply_preferences(connection, person, change, now, ip=ip, user_agent=agent)
        new_email = change.new_email
        if new_email is not None and address_change_allowed(connection, saved, new_email):
            link = confirm_url(web, saved, new_email=new_email)  # saved with the change
            web.queue(connection, Notice("confirm_address", new_email, {"confirm": link}))

    await write(web, save)
    # Post/Redirect/Get: reloading the page shows it again rather than posting the form twice
    outcome = "moving" if change.new_email is not None else "yes"
    response = RedirectResponse(f"{web.base_url}/preferences/{token}?saved={outcome}", 303)
    return web.send_after(response) if change.new_email is not None else response


async def unsubscribe_page(request: Request) -> Response:
    """GET: one button. POST: RFC 8058 one-click (no CSRF, no question), idempotent; the page's
    button posts the same body plus a CSRF token, and only then is a goodbye mail sent."""
    web = web_of(request)
    token = request.path_params["token"]
    found = await holder(web, token, "unsubscribe")
    if found is None:
        return await stale_link(web, token, "unsubscribe")
    person = found[0]
    if request.method == "GET":
        if person.status == "unsubscribed":
            return _unsubscribed(web)
        browser = web.csrf.browser_id(request)
        response = web.page(
            "unsubscribe.html",
            token=token,
            email=person.email,
            person=person,
            weekdays=signup.WEEKDAYS,
            csrf_token=web.csrf.token(browser, web.clock()),
        )
        web.csrf.remember(request, response, browser)
        return response
    now = web.clock()
    form = await request.form(max_files=0, max_fields=20)
    by_person = True
    try:
        web.csrf.check(request, form, now)
    except BadToken:
        by_person = False
    if not by_person and form.get("List-Unsubscribe") != "One-Click":  # RFC 8058 section 3.2
        return web.message(
            "Nothing changed",
            "To unsubscribe, open the link and press the button.",
            400,
            link=f"{web.base_url}/unsubscribe/{token}",
            link_text="Unsubscribe",
        )
    ip, agent = client_ip(request), user_agent(request)
    via = "page" if by_person else "one-click"

    def leave(connection: Connection) -> bool:
        changed = unsubscribe(connection, person, now, via=via, ip=ip, user_agent=agent)
        if changed and by_person:  # the goodbye is saved with the unsubscribe
            goodbye = Notice("unsubscribed", person.email, {"signup": f"{web.base_url}/"})
            web.queue(connection, goodbye)
        return changed and by_person

    mailed = await write(web, leave)
    done = _unsubscribed(web)
    return web.send_after(done) if mailed else done


async def instead_page(request: Request) -> Response:
    """The unsubscribe page's gentler choices (POST with CSRF): ``instead=pause`` pauses the
    digest, ``instead=weekly`` makes it weekly; either keeps the subscription."""
    web = web_of(request)
    token = request.path_params["token"]
    found = await holder(web, token, "unsubscribe")
    if found is None or found[0].status not in ("active", "paused"):
        return await stale_link(web, token, "unsubscribe")
    person, now = found[0], web.clock()
    form = await request.form(max_files=0, max_fields=20)
    choice = form.get("instead")
    try:
        web.csrf.check(request, form, now)
    except BadToken:
        choice = None
    if choice not in ("pause", "weekly"):
        return web.message(
            "Nothing changed", "This page expired. Open the link from your email again.", 403
        )
    change = PreferenceChange(
        topics=person.topics,
        authors=person.authors,
        mutes=person.mutes,
        frequency="weekly" if choice == "weekly" else person.frequency,
        weekday=person.weekday,
        hour=person.hour,
        timezone=person.timezone,
        paused=choice == "pause" or person.status == "paused",
        new_email=None,
    )
    ip, agent = client_ip(request), user_agent(request)
    saved = await write(
        web, lambda c: apply_preferences(c, person, change, now, ip=ip, user_agent=agent)
    )
    if choice == "pause":
        title, text = "Your digest is paused", "Nothing more comes until you resume it."
    else:
        when = signup.schedule_text(saved.frequency, saved.weekday, saved.hour, saved.timezone)
        title, text = "Your digest is now weekly", f"It comes {when}."
    return web.message(
        title, text, link=links_for(web, saved).preferences, link_text="Your preferences"
    )


def _unsubscribed(web: Web) -> Response:
    return web.message(
        "You are unsubscribed",
        "You will get no more digests. Changed your mind? Sign up again at any time.",
        link=f"{web.base_url}/",
        link_text="Sign up again",
    )


routes = [
    Route("/preferences/{token}", preferences, methods=["GET", "POST"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"]),
    Route("/unsubscribe/{token}/instead", instead_page, methods=["POST"]),
]
