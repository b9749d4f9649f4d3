"""/paper/<id>: one paper on our own site, the full abstract a card's "Abstract" link opens
(a digest shows a one-to-two-sentence summary). Public: it shows only what the source
published, the same to everyone."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from digest.compose.cards import paper_page as page_url
from digest.compose.cards import read_links, short_authors, signals
from digest.compose.citations import bibtex, coins, highwire_meta, ris
from digest.compose.text import clean
from digest.compose.themes import theme_of
from digest.paper_store import get_papers
from digest.web.state import web_of
from papercore.papers import Paper

LISTED_AUTHORS = 30  # a page lists this many names, then "and N more"


CITATION_TYPES = {  # /paper/<id>.bib and .ris: what a "Cite" link opens
    "bib": ("application/x-bibtex", bibtex),
    "ris": ("application/x-research-info-systems", ris),
}


def paper_context(paper: Paper, base_url: str = "") -> dict[str, Any]:
    """What the page shows of ``paper``: cleaned texts, links only when the source knows them,
    and its citation for reference managers (Highwire meta tags, a COinS span)."""
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
        "citation_meta": highwire_meta(paper, base_url),
        "coins": coins(paper),
        "cite_url": page_url("", paper.id),
    }


async def paper_page(request: Request) -> Response:
    return await _paper(request, None)


async def paper_bib(request: Request) -> Response:
    return await _paper(request, "bib")


async def paper_ris(request: Request) -> Response:
    return await _paper(request, "ris")


async def _paper(request: Request, kind: str | None) -> Response:
    web = web_of(request)
    paper_id = request.path_params["paper_id"]

    def load() -> Paper | None:
        with web.engine.connect() as connection:
            return get_papers(connection, [paper_id]).get(paper_id)

    def render() -> Response:
        found = load() if len(paper_id) <= 200 else None
        if found is None:
            return web.message("Not found", "We have no paper with that id.", 404)
        if kind is not None:
            media, write = CITATION_TYPES[kind]
            name = "".join(c if c.isalnum() or c in ".-" else "_" for c in found.id)
            return PlainTextResponse(
                write([found]),
                media_type=media,
                headers={"Content-Disposition": f'inline; filename="{name}.{kind}"'},
            )
        context = paper_context(found, web.base_url)
        return web.page("paper.html", **context)  # cleaning and themes: CPU work

    return await run_in_threadpool(render)


routes = [  # the citation files first: {paper_id:path} would take "2401.00001.bib" whole
    Route("/paper/{paper_id:path}.bib", paper_bib, methods=["GET"]),
    Route("/paper/{paper_id:path}.ris", paper_ris, methods=["GET"]),
    Route("/paper/{paper_id:path}", paper_page, methods=["GET"]),
]
