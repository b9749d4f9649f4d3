"""/paper/<id>: one paper on our own site, the full abstract a card's "Abstract" link opens
(a digest shows a one-to-two-sentence summary). Public: it shows only what the source
published, the same to everyone."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.compose.cards import read_links, short_authors, signals
from digest.compose.text import clean
from digest.compose.themes import theme_of
from digest.paper_store import get_papers
from digest.web.state import web_of
from papercore.papers import Paper

LISTED_AUTHORS = 30  # a page lists this many names, then "and N more"


def paper_context(paper: Paper) -> dict[str, Any]:
    """What the page shows of ``paper``: cleaned texts, links only when the source knows them."""
    names = [clean(a) for a in paper.authors if clean(a)]
    more = max(len(names), paper.author_count or 0) - LISTED_AUTHORS
    return {
        "paper": paper,
        "title": clean(paper.title) or "(untitled)",
        "authors": ", ".join(names[:LISTED_AUTHORS]) or short_authors((), paper.author_count),
        "more_authors": max(more, 0),
        "published": paper.published.strftime("%-d %B %Y") if paper.published else "",
        "signals": signals(paper),
        "links": read_links(paper),
        "theme": theme_of(paper),
        "abstract": clean(paper.abstract),
        "ai_summary": clean(paper.ai_summary),
    }


async def paper_page(request: Request) -> Response:
    web = web_of(request)
    paper_id = request.path_params["paper_id"]

    def load() -> Paper | None:
        with web.engine.connect() as connection:
            return get_papers(connection, [paper_id]).get(paper_id)

    def render() -> Response:
        found = load() if len(paper_id) <= 200 else None
        if found is None:
            return web.message("Not found", "We have no paper with that id.", 404)
        return web.page("paper.html", **paper_context(found))  # cleaning and themes: CPU work

    return await run_in_threadpool(render)


routes = [Route("/paper/{paper_id:path}", paper_page, methods=["GET"])]
