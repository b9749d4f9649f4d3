"""/paper/<id>: the full abstract one tap from a card, on our own site, escaped; and the public
issue page grouped by theme with each full abstract behind "Full abstract"."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from digest.compose.cards import paper_page
from digest.issues import open_issue, set_status
from digest.paper_store import ingest
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper, paper_id_for
from tests.web_site import Clock, Site

LONG = (
    "Graph neural networks are hard to scale. We propose GraphScale, a message passing scheme "
    "that trains deep graph networks on billion-edge graphs with constant memory. "
) * 4 + "The very last sentence of the abstract is here."
HOSTILE = "Graphs <script>alert('x')</script> & friends"


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def test_the_paper_page_shows_the_whole_abstract_and_where_to_read_it(
    site: Site, now: datetime
) -> None:
    paper = Paper(
        "2411.00007",
        HOSTILE,
        LONG,
        authors=tuple(f"Author {i}" for i in range(35)),
        published=date(2024, 11, 2),
        upvotes=12,
        code_url="https://github.com/lab/graphscale",
    )
    ingest(site.engine, [paper], now)
    page = site.client.get(paper_page("", paper.id))
    assert page.status_code == 200
    text = page.text
    assert "The very last sentence of the abstract is here." in text
    assert "<script>alert" not in text and "&lt;script&gt;alert(" in text
    assert "Author 0, Author 1" in text and "Author 29 and 5 more" in text
    assert text.count("Author 34") == 1  # only in its citation_author meta tag
    assert 'href="https://arxiv.org/abs/2411.00007"' in text
    assert 'href="https://arxiv.org/pdf/2411.00007"' in text
    assert 'href="https://github.com/lab/graphscale"' in text
    assert "12 upvotes" in text and "2 November 2024" in text
    assert "Graph learning" in text  # its theme


def test_a_paper_known_only_by_title_has_a_page_too(site: Site, now: datetime) -> None:
    title = "A paper without an arXiv id"
    paper = Paper(paper_id_for(title, None), title, "Its abstract, in full.")
    ingest(site.engine, [paper], now)
    page = site.client.get(paper_page("", paper.id))
    assert page.status_code == 200 and "Its abstract, in full." in page.text


def test_an_unknown_paper_is_a_plain_404(site: Site) -> None:
    for path in ("/paper/2411.99999", "/paper/" + "x" * 300, "/paper/a/b/c"):
        page = site.client.get(path)
        assert page.status_code == 404 and "We have no paper with that id." in page.text


def test_the_public_issue_groups_by_theme_and_folds_the_full_abstract(
    site: Site, now: datetime
) -> None:
    graphs = [
        Paper(f"2411.0010{i}", f"Graph neural networks, part {i}", LONG, upvotes=50 - i)
        for i in range(3)
    ]
    robots = [
        Paper(
            f"2411.0020{i}",
            f"Robots that learn to grasp, part {i}",
            "A robotic manipulation policy for robots.",
            upvotes=40 - i,
        )
        for i in range(2)
    ]
    ingest(site.engine, [*graphs, *robots], now)
    with transaction(site.engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
        set_status(connection, issue.id, "done", now)
    text = site.client.get(f"/issue/{issue.id}").text
    assert "grouped by theme" in text
    assert '<h2 class="theme">Graph learning</h2>' in text
    assert '<h2 class="theme">Robotics</h2>' in text
    # each theme's papers together, under its heading (the lead, the top paper, stands alone)
    robotics = text.index('<h2 class="theme">Robotics</h2>')
    parts = [text.index(f"Robots that learn to grasp, part {i}") for i in range(2)]
    assert all(robotics < at for at in parts)
    assert not any(robotics < text.find('<h2 class="theme">', robotics + 1) < at for at in parts)
    assert "<summary>Full abstract</summary>" in text
    assert text.count("The very last sentence of the abstract is here.") == 3
    assert f'href="{paper_page("", graphs[0].id)}"' in text
