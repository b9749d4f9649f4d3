"""Keeping a paper from the site: /paper/<id> carries Highwire ``citation_*`` meta tags and a
COinS span, /paper/<id>.bib and .ris give its citation (old-style arXiv ids with a slash
too), /issue/N a COinS span per paper. Hostile titles and authors come out escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs

import bibtexparser
import pytest
from sqlalchemy import Engine

from digest.compose.cards import paper_page
from digest.compose.text import clean
from digest.issues import open_issue, set_status
from digest.paper_store import ingest
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from tests.web_site import Clock, Site

TITLE = 'Escaping {braces} \\ "quotes" <script>alert(1)</script>\nand a new line'
SHOWN_TITLE = clean(TITLE)  # as every surface shows it: one line, LaTeX read as text
AUTHORS = ('Ada "<b>" Lovelace', "Rob } Pike", "Line\nBreak")
SHOWN_AUTHORS = [clean(name) for name in AUTHORS]


class Tags(HTMLParser):
    """The meta tags (name, content) and the COinS spans' titles of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.coins: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("name") or "").startswith("citation_"):
            self.meta.append((found["name"] or "", found.get("content") or ""))
        if tag == "span" and found.get("class") == "Z3988":
            self.coins.append(found.get("title") or "")
        self.scripts += tag == "script"


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


HOSTILE = Paper(
    "2411.00077",
    TITLE,
    "An abstract.",
    authors=AUTHORS,
    published=date(2024, 11, 2),
    posted_at=datetime(2024, 11, 1, 20, tzinfo=UTC),
)
OLD = Paper("hep-th/9901001", "The large N limit", "An old abstract.", authors=("J. Maldacena",))


def test_the_paper_page_carries_highwire_meta_tags_and_coins(site: Site, now: datetime) -> None:
    ingest(site.engine, [HOSTILE], now)
    page = site.client.get(paper_page("", HOSTILE.id))
    assert page.status_code == 200
    found = tags_of(page.text)
    assert found.scripts == 0  # the hostile <script> stays text
    meta = found.meta
    assert ("citation_title", SHOWN_TITLE) in meta
    assert [c for n, c in meta if n == "citation_author"] == SHOWN_AUTHORS
    assert ("citation_publication_date", "2024/11/02") in meta
    assert ("citation_online_date", "2024/11/01") in meta
    assert ("citation_arxiv_id", "2411.00077") in meta
    assert ("citation_pdf_url", "https://arxiv.org/pdf/2411.00077") in meta
    base = site.settings.app.base_url.rstrip("/")
    assert ("citation_abstract_html_url", f"{base}/paper/2411.00077") in meta
    (span,) = found.coins
    query = parse_qs(span, strict_parsing=True)
    assert query["ctx_ver"] == ["Z39.88-2004"]
    assert query["rft.atitle"] == [SHOWN_TITLE]
    assert query["rft.au"] == SHOWN_AUTHORS
    assert query["rft.date"] == ["2024-11-02"]
    assert "info:arxiv/2411.00077" in query["rft_id"]
    assert 'href="/paper/2411.00077.bib"' in page.text


def test_bib_and_ris_are_served_for_new_and_old_style_ids(site: Site, now: datetime) -> None:
    ingest(site.engine, [HOSTILE, OLD], now)
    for paper in (HOSTILE, OLD):
        bib = site.client.get(paper_page("", paper.id) + ".bib")
        assert bib.status_code == 200, paper.id
        assert bib.headers["content-type"].startswith("application/x-bibtex")
        library = bibtexparser.parse_string(bib.text)
        assert not library.failed_blocks
        (entry,) = library.entries
        assert entry.entry_type == "misc" and entry.fields_dict["eprint"].value == paper.id
        ris = site.client.get(paper_page("", paper.id) + ".ris")
        assert ris.status_code == 200
        lines = ris.text.rstrip("\r\n").splitlines()
        assert lines[0] == "TY  - UNPB" and lines[-1] == "ER  - "
        assert all(line[2:6] == "  - " for line in lines)
    # the page itself still opens, and an unknown paper's citation is a 404
    assert site.client.get("/paper/hep-th/9901001").status_code == 200
    assert "The large N limit" in site.client.get("/paper/hep-th%2F9901001").text
    assert site.client.get("/paper/2411.99999.bib").status_code == 404
    assert site.client.get("/paper/" + "x" * 300 + ".ris").status_code == 404


def test_the_public_issue_has_a_coins_span_and_a_cite_link_per_paper(
    site: Site, now: datetime
) -> None:
    papers = [
        Paper(f"2411.0030{i}", f"Graph networks {i} <b>", "Graph networks scale.", upvotes=9 - i)
        for i in range(3)
    ]
    ingest(
        site.engine, [*papers, replace(HOSTILE, upvotes=20, published=None, posted_at=None)], now
    )
    with transaction(site.engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
        set_status(connection, issue.id, "done", now)
    text = site.client.get(f"/issue/{issue.id}").text
    found = tags_of(text)
    assert found.scripts == 0
    titles = sorted(parse_qs(span)["rft.atitle"][0] for span in found.coins)
    assert titles == sorted([p.title for p in papers] + [SHOWN_TITLE])
    for paper in [*papers, HOSTILE]:
        assert f'href="/paper/{paper.id}.bib"' in text
