"""What the ranking learns from a subscriber: the "more / less like this" page behind a digest's
feedback links, and the preferences page's forget, reset and seed-from-papers buttons.

A GET of a feedback link records nothing: mail scanners fetch every link of a message, often
both "more" and "less" of the same paper. The page names the paper and has one button that
POSTs the click (with CSRF); a small script presses it at once, so for a person it stays one
click, and without script the button does it.
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.compose.text import clean
from digest.paper_store import SeedShelf, get_papers
from digest.web.account_pages import account_form, holder, preferences_page, write
from digest.web.forms import seed_list, text
from digest.web.signup_pages import links_for
from digest.web.state import Web, client_ip, user_agent, web_of
from papercore.errors import InputError
from papercore.papers import Paper
from subscribers import store
from subscribers.feedback import forget_example, record_votes, reset_learning
from subscribers.model import Subscriber
from subscribers.seeding import SeedLimits, SeedPlan, seed_profile
from subscribers.tokens import BadToken

EXPIRED = "This page expired. Please try again."
MAX_UPLOAD = 60_000  # under the 64 KB body limit: a bigger file is refused before this anyway


async def feedback(request: Request) -> Response:
    """GET: the landing page (records nothing). POST: record the click (CSRF)."""
    web = web_of(request)
    token = request.path_params["token"]
    found = await holder(web, token, "feedback")
    if found is None:
        return web.bad_link()
    person, claims = found
    paper_id, direction = claims.extra.get("paper"), claims.extra.get("d")
    if not isinstance(paper_id, str) or direction not in (1, -1):
        return web.bad_link()
    paper = await run_in_threadpool(_paper, web, paper_id)
    if paper is None:
        return web.bad_link()
    if person.status not in ("active", "paused"):
        return web.message("Thank you", "You are no longer subscribed, so nothing changed.")
    more = direction == 1
    if request.method == "GET":
        return _landing(web, request, token, paper, more)
    now = web.clock()
    form = await request.form(max_files=0, max_fields=10)
    try:
        web.csrf.check(request, form, now)
    except BadToken:
        return _landing(web, request, token, paper, more, expired=True)
    issue = claims.extra.get("i")
    ip, agent = client_ip(request), user_agent(request)
    await write(
        web,
        lambda c: record_votes(
            c,
            person,
            {paper.id: direction},
            now,
            issue_id=issue if isinstance(issue, int) else None,
            via="page",
            ip=ip,
            user_agent=agent,
            keep=web.settings.ranking.examples_max,
        ),
    )
    line = (
        "Thanks! You will see more papers like this one."
        if more
        else "Thanks! You will see fewer papers like this one."
    )
    return web.message(
        "Thank you",
        line,
        link=links_for(web, person).preferences,
        link_text="See what your digest learned",
        details=[clean(paper.title)],
    )


def _paper(web: Web, paper_id: str) -> Paper | None:
    with web.engine.connect() as connection:
        return get_papers(connection, [paper_id]).get(paper_id)


def _landing(
    web: Web, request: Request, token: str, paper: Paper, more: bool, expired: bool = False
) -> Response:
    browser = web.csrf.browser_id(request)
    response = web.page(
        "feedback.html",
        403 if expired else 200,
        token=token,
        csrf_token=web.csrf.token(browser, web.clock()),
        paper=paper,
        more=more,
        expired=expired,
    )
    web.csrf.remember(request, response, browser)
    return response


async def forget(request: Request) -> Response:
    """Forget one example ("forget this")."""
    web, person, token, form = await account_form(request, EXPIRED)
    if isinstance(form, Response):
        return form
    paper_id = text(form, "paper")[:64]
    now = web.clock()
    done = await write(web, lambda c: forget_example(c, person, paper_id, now))
    notice = "Forgotten." if done else "That paper was not in what your digest learned."
    return await _after(web, request, person, token, notice)


async def reset(request: Request) -> Response:
    """Forget every example ("reset learning"); typed topics stay."""
    web, person, token, form = await account_form(request, EXPIRED)
    if isinstance(form, Response):
        return form
    now = web.clock()
    removed = await write(web, lambda c: reset_learning(c, person, now))
    notice = f"Reset: forgot {removed} paper{'s' if removed != 1 else ''}. Your topics stay."
    return await _after(web, request, person, token, notice)


async def seed(request: Request) -> Response:
    """Like the papers of a pasted or uploaded list (arXiv ids, titles, BibTeX, Zotero CSV)."""
    web, person, token, form = await account_form(request, EXPIRED, max_files=1)
    if isinstance(form, Response):
        return form
    try:
        pasted = form.get("papers")
        pasted = pasted[:MAX_UPLOAD] if isinstance(pasted, str) else ""
        uploaded = await _upload(form.get("papers_file"))
        # parsing a list can take seconds (BibTeX): off the event loop
        listed = await run_in_threadpool(seed_list, pasted, uploaded)
    except InputError as exc:
        errors = {"papers": exc.one_line()}
        return await preferences_page(web, request, person, token, 422, None, errors)
    now = web.clock()
    limits = SeedLimits.from_settings(web.settings.ranking)

    def run(connection: Connection) -> SeedPlan:
        shelf = SeedShelf(connection)
        return seed_profile(connection, shelf, person, listed, now, via="web", limits=limits)

    plan = await write(web, run)
    return await _after(web, request, person, token, plan.summary(), plan.missing)


async def _upload(value: object) -> str:
    if not isinstance(value, UploadFile):
        return ""
    data = await value.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"the file is over {MAX_UPLOAD // 1000} KB")
    return data.decode("utf-8", errors="replace")


async def _after(
    web: Web,
    request: Request,
    person: Subscriber,
    token: str,
    notice: str,
    details: tuple[str, ...] = (),
) -> Response:
    def load() -> Subscriber:
        with web.engine.connect() as connection:
            return store.get(connection, person.id)

    fresh = await run_in_threadpool(load)
    return await preferences_page(web, request, fresh, token, notice=notice, details=details)


routes = [
    Route("/feedback/{token}", feedback, methods=["GET", "POST"]),
    Route("/preferences/{token}/forget", forget, methods=["POST"]),
    Route("/preferences/{token}/reset", reset, methods=["POST"]),
    Route("/preferences/{token}/seed", seed, methods=["POST"]),
]
