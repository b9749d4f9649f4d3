"""The archive: /archive lists past issues, /issue/<n> shows one as the public sees it (the
trending digest of its day, never what a subscriber got), and
/view/<token> shows a subscriber their own copy (or, without an issue, a preview of their next
digest: the welcome mail's link)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from digest.compose import Composer, IssueInfo, plan
from digest.compose.cards import paper_page
from digest.compose.citations import coins
from digest.compose.summary import summarise
from digest.compose.themes import theme_of
from digest.issues import PUBLISHED, Issue, get_issue, published_issues
from digest.paper_store import store_stamp
from digest.personal import PersonalDigests, preview_digest
from digest.personal.preview import PREVIEW_ADDRESS
from digest.ranking import Pick
from digest.sending.ledger.feed import shown_issue
from digest.web.account_pages import holder
from digest.web.feed_pages import shown_plan
from digest.web.headers import MAIL_CSP
from digest.web.memo import Memo
from digest.web.signup_pages import links_for
from digest.web.standing_pages import stale_link
from digest.web.state import Web, web_of
from papercore.errors import NotFound
from subscribers.model import Subscriber

PUBLIC_ISSUES = 256  # public issues kept built, per web app
PREVIEWS = 64  # subscribers' next-digest previews kept, per web app


@dataclass(frozen=True, slots=True)
class PublicIssue:
    """An issue as the public sees it: the trending digest of its day, nobody's own copy."""

    issue: Issue
    picks: tuple[Pick, ...]

    @property
    def title(self) -> str:
        return f"No. {self.issue.id} · {self.issue.date:%A %-d %B %Y}"

    def sections(self) -> list[tuple[str | None, list[Pick]]]:
        """The picks as the trending mail lays them out: the lead, then by theme."""
        by_id = {pick.paper.id: pick for pick in self.picks}
        themes = {paper_id: theme_of(pick.paper) for paper_id, pick in by_id.items()}
        found: list[tuple[str | None, list[Pick]]] = []
        for placed in plan.place(self.picks, (), trending=False, public=True, themes=themes):
            if placed.lead or placed.heading:
                found.append((placed.heading, []))
            found[-1][1].append(by_id[placed.pick.paper.id])
        return found


def public_issue(web: Web, issue: Issue) -> PublicIssue:
    """The trending digest of the issue's day: its pool ranked for a stand-in with no topics
    by the one personal-digest builder, as of when the issue was opened (so it never changes).
    Built once per issue and status, also when many ask at once (one computes, the others
    wait for it)."""
    built: Memo[PublicIssue] = web.caches.setdefault("public_issues", Memo(PUBLIC_ISSUES))

    def build() -> PublicIssue:
        info = IssueInfo(issue.id, issue.date, issue.frequency)
        digests = PersonalDigests.build(web.engine, web.settings, info, issue.created_at)
        nobody = Subscriber(id=0, email=PREVIEW_ADDRESS)  # no topics, never had a digest
        return PublicIssue(issue, tuple(digests.picks(nobody, ())))

    return built.get((issue.id, issue.status), build)


def mail_page(html: str) -> Response:
    return HTMLResponse(html, headers={"Content-Security-Policy": MAIL_CSP})


ARCHIVE_WITH_TITLES = 20  # the newest issues list their top papers; older ones their date


async def archive(request: Request) -> Response:
    web = web_of(request)

    def load() -> list[PublicIssue | Issue]:
        with web.engine.connect() as connection:
            found = published_issues(connection)
        head = [public_issue(web, issue) for issue in found[:ARCHIVE_WITH_TITLES]]
        return [*head, *found[ARCHIVE_WITH_TITLES:]]

    return await run_in_threadpool(lambda: web.page("archive.html", issues=load()))


async def issue_page(request: Request) -> Response:
    web = web_of(request)
    number = request.path_params["number"]
    if number >= 2**63:  # no database key is that large (SQLite would raise OverflowError)
        return web.message("Not found", "There is no such issue.", 404)

    def render() -> Response:
        # all of it in a worker thread: ranking, themes, summaries and the template are CPU
        # work that would hold every other request on the event loop
        with web.engine.connect() as connection:
            try:
                issue = get_issue(connection, number)
            except NotFound:
                issue = None
        if issue is None or issue.status not in PUBLISHED:
            return web.message("Not found", "There is no such issue.", 404)
        found = public_issue(web, issue)
        summaries = {pick.paper.id: summarise(pick.paper.abstract, 300) for pick in found.picks}
        return web.page(
            "issue.html",
            title=found.title,
            public=found,
            sections=found.sections(),
            summary=lambda paper: summaries[paper.id],  # each computed once above
            paper_url=lambda paper: paper_page("", paper.id),
            coins=coins,  # one COinS span per paper, for reference managers
        )

    return await run_in_threadpool(render)


def _own_copy(web: Web, person: Subscriber, issue_id: object) -> str | None:
    if not isinstance(issue_id, int):  # the welcome mail's preview of the next digest
        return _preview(web, person)
    with web.engine.connect() as connection:
        shown = shown_issue(connection, issue_id, person.id)
        laid_out = shown_plan(connection, shown) if shown is not None else None
    if shown is None or laid_out is None or not laid_out.cards:
        return None
    # the mail's own renderer, over the plan the ledger recorded: the same papers, order,
    # headings and reasons as the message sent
    info = IssueInfo(shown.issue_id, shown.issue_date, shown.frequency)
    prepared = Composer(web.settings).prepare(info, [card.paper for card in laid_out.cards])
    return prepared.render(person, laid_out, links_for(web, person, shown.issue_id)).html


def _preview(web: Web, person: Subscriber) -> str | None:
    """The subscriber's next digest (about a CPU-second to rank): built once per subscriber
    profile, pool (its newest paper) and hour, however often or concurrently the link is
    opened."""
    previews: Memo[str | None] = web.caches.setdefault("previews", Memo(PREVIEWS))
    now = web.clock()
    with web.engine.connect() as connection:
        stamp = store_stamp(connection)
    key = (person.id, repr(person), stamp, now.strftime("%Y-%m-%d %H"))

    def build() -> str | None:
        found = preview_digest(web.engine, web.settings, person, now)
        return found.message.html if found.shown else None

    return previews.get(key, build)


async def view_page(request: Request) -> Response:
    web = web_of(request)
    token = request.path_params["token"]
    found = await holder(web, token, "view")
    if found is None:
        return await stale_link(web, token, "view")
    person, claims = found
    if not isinstance(claims.extra.get("i"), int) and person.status != "active":
        if person.status == "paused":  # no next digest to preview: say why
            return web.message("Your digest is paused", PAUSED)
        return await stale_link(web, token, "view")
    html = await run_in_threadpool(_own_copy, web, person, claims.extra.get("i"))
    if html is None:
        return web.message("Nothing to show yet", NOTHING_YET)
    return mail_page(html)


PAUSED = "Nothing comes until you resume it on your preferences page, so there is no preview."
NOTHING_YET = (
    "No new papers are waiting for this digest yet. A digest is only sent when it has papers; "
    "your preferences page says when the next one is due."
)


routes = [
    Route("/archive", archive, methods=["GET"]),
    Route("/issue/{number:int}", issue_page, methods=["GET"]),
    Route("/view/{token}", view_page, methods=["GET"]),
]
