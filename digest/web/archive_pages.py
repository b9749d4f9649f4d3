"""The archive: /archive lists past issues, /issue/<n> shows one as the public sees it, and
/view/<token> shows a subscriber their own copy (or, without an issue, a preview of their next
digest: the welcome mail's link)."""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from digest.compose import Composer, IssueInfo
from digest.issues import PUBLISHED, Issue, get_issue, published_issues
from digest.paper_store import get_papers
from digest.personal import preview_digest
from digest.ranking import Pick
from digest.sending import ledger
from digest.web.account_pages import holder
from digest.web.headers import MAIL_CSP
from digest.web.signup_pages import links_for
from digest.web.state import Web, web_of
from papercore.errors import NotFound
from papercore.papers import Paper
from subscribers.model import Subscriber


def issue_papers(connection: Connection, issue_id: int, limit: int) -> list[Paper]:
    """The papers an issue actually sent, most widely sent first."""
    chosen = ledger.papers_sent_most(connection, issue_id, limit)
    found = get_papers(connection, chosen)
    return [found[i] for i in chosen if i in found]


def delivered_papers(connection: Connection, issue_id: int, subscriber_id: int) -> list[Paper]:
    """The papers one subscriber got in one issue, in the order they were shown."""
    ids = ledger.papers_delivered(connection, issue_id, subscriber_id)
    found = get_papers(connection, ids)
    return [found[i] for i in ids if i in found]


def _picks(papers: list[Paper]) -> list[Pick]:
    return [Pick(paper, 0.0, 0.0, ()) for paper in papers]


_rendered: dict[tuple[int, int, str, tuple[str, ...]], str] = {}


def _generic_html(web: Web, issue: Issue, papers: list[Paper]) -> str:
    """The public page of an issue, rendered once for as long as its papers stay the same."""
    key = (id(web), issue.id, issue.status, tuple(p.id for p in papers))
    if key not in _rendered:
        if len(_rendered) > 64:
            _rendered.clear()
        info = IssueInfo(issue.id, issue.date, issue.frequency)
        _rendered[key] = Composer(web.settings).prepare(info, papers).generic_html(_picks(papers))
    return _rendered[key]


def mail_page(html: str) -> Response:
    return HTMLResponse(html, headers={"Content-Security-Policy": MAIL_CSP})


async def archive(request: Request) -> Response:
    web = web_of(request)

    def load() -> list[Issue]:
        with web.engine.connect() as connection:
            return published_issues(connection)

    return web.page("archive.html", issues=await run_in_threadpool(load))


async def issue_page(request: Request) -> Response:
    web = web_of(request)
    number = request.path_params["number"]

    def render() -> str | None:
        with web.engine.connect() as connection:
            try:
                issue = get_issue(connection, number)
            except NotFound:
                return None
            if issue.status not in PUBLISHED:
                return None
            papers = issue_papers(connection, issue.id, web.settings.ranking.picks)
        return _generic_html(web, issue, papers)

    html = await run_in_threadpool(render)
    if html is None:
        return web.message("Not found", "There is no such issue.", 404)
    return mail_page(html)


def _own_copy(web: Web, person: Subscriber, issue_id: object) -> str | None:
    if not isinstance(issue_id, int):  # the welcome mail's preview of the next digest
        found = preview_digest(web.engine, web.settings, person, web.clock())
        return found.message.html if found.shown else None
    with web.engine.connect() as connection:
        try:
            issue = get_issue(connection, issue_id)
        except NotFound:
            return None
        papers = delivered_papers(connection, issue.id, person.id)
    if not papers:
        return None
    info = IssueInfo(issue.id, issue.date, issue.frequency)
    prepared = Composer(web.settings).prepare(info, papers)
    return prepared.message(person, _picks(papers), links_for(web, person, issue.id)).html


async def view_page(request: Request) -> Response:
    web = web_of(request)
    found = await holder(web, request.path_params["token"], "view")
    if found is None:
        return web.bad_link()
    person, claims = found
    html = await run_in_threadpool(_own_copy, web, person, claims.extra.get("i"))
    if html is None:
        return web.message(
            "Nothing to show yet",
            "There are no papers for this digest yet. Your first one comes on schedule.",
        )
    return mail_page(html)


routes = [
    Route("/archive", archive, methods=["GET"]),
    Route("/issue/{number:int}", issue_page, methods=["GET"]),
    Route("/view/{token}", view_page, methods=["GET"]),
]
