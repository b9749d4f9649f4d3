"""LaTeX reads as text wherever a paper is shown (issue 24): math-heavy abstracts from the arXiv
API and the 288 sample papers, ingested with the real `digest` command, leave no backslash
command and no "$" math delimiter in the mail (HTML and text parts, subject, pre-header), the
paper pages, the public issue page, the Atom feed or the JSON view; the store keeps the source."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.compose.cards import card_view, paper_page
from digest.compose.plan import subject_line
from digest.issues import open_issue, set_status
from digest.paper_store import list_papers
from digest.web.feed_view import ShownDigest, ShownPaper, atom_feed, issue_json
from papercore.config import Settings
from papercore.db.engine import transaction
from tests.conftest import FIXTURES, SAMPLE_PAGES, Cli
from tests.web_site import Clock, Site

pytestmark = pytest.mark.slow
LEXICAL = {"DIGEST_RANKING__SEMANTIC": "off"}  # loading the embedding model is not under test
MATH_FEED = FIXTURES / "arxiv_math.xml"
MATH_IDS = [f"2510.110{n:02d}" for n in range(1, 9)]
TOPICS = (
    "attention",
    "speech recognition",
    "pruning search",
    "gradient methods",
    "diffusion sampling",
    "graph neural networks",
    "federated learning",
    "policy optimisation",
)
COMMAND = re.compile(r"\\[A-Za-z]+")
# a "$...$" pair around math: the opening "$" before a non-space, the closing one after one
MATH = re.compile(r"(?<![\d\w])\$(?=[^\s$])[^$<>\n]{0,200}?[^\s$\\]\$(?!\d)")


def assert_no_latex(shown: str, where: str) -> None:
    text = unescape(shown)
    found = COMMAND.search(text) or MATH.search(text)
    assert found is None, f"{where}: {text[max(0, found.start() - 80) : found.end() + 80]!r}"


def mail_parts(target: Path) -> dict[str, str]:
    parsed = BytesParser(policy=policy.default).parsebytes(target.with_suffix(".eml").read_bytes())
    assert isinstance(parsed, EmailMessage)
    html, text = parsed.get_body(("html",)), parsed.get_body(("plain",))
    assert html is not None and text is not None
    return {
        "subject": str(parsed["Subject"]),
        "html part": str(html.get_content()),  # type: ignore[attr-defined]
        "text part": str(text.get_content()),  # type: ignore[attr-defined]
        "preview page": target.read_text(encoding="utf-8"),
    }


def test_the_mail_shows_math_abstracts_as_text(cli: Cli, tmp_path: Path) -> None:
    cli.env |= LEXICAL
    cli("ingest", str(MATH_FEED))
    target = tmp_path / "math.html"
    topics = [arg for topic in TOPICS for arg in ("--topic", topic)]
    cli("preview", *topics, "--output", str(target))
    parts = mail_parts(target)
    for where, shown in parts.items():
        assert_no_latex(shown, where)
    text = parts["text part"]
    assert text.count("Read: ") == len(MATH_IDS)  # every math paper is in this digest
    for readable in ("O(n log n)", "α-β Pruning", "ℒ_NCE", "(L₀, L₁)-Smoothness", "ε < 1"):
        assert readable in text


def test_the_mail_shows_the_sample_papers_with_latex_as_text(cli: Cli, tmp_path: Path) -> None:
    cli.env |= LEXICAL
    cli("ingest", *map(str, SAMPLE_PAGES))
    topics = {  # digests that carry the sample papers whose abstracts have LaTeX
        "nas": ("neural architecture search", "image classification", "mobile networks"),
        "systems": ("deep learning compilers", "approximate nearest neighbor search"),
        "trending": (),
    }
    for name, chosen in topics.items():
        target = tmp_path / f"{name}.html"
        cli("preview", *(a for t in chosen for a in ("--topic", t)), "--output", str(target))
        for where, shown in mail_parts(target).items():
            assert_no_latex(shown, f"{name}: {where}")


def test_every_page_feed_and_json_shows_latex_as_text(
    cli: Cli, engine: Engine, settings: Settings, now: datetime
) -> None:
    cli("ingest", str(MATH_FEED), *map(str, SAMPLE_PAGES))
    with engine.connect() as connection:
        papers = list_papers(connection)
    assert len(papers) == 288 + len(MATH_IDS)
    with_latex = [p for p in papers if "\\" in f"{p.title} {p.abstract}" or "$" in p.title]
    assert len(with_latex) >= 14 + len(MATH_IDS)
    stored = {p.id: p for p in papers}
    assert "$O(n^2)$" in (stored["2510.11001"].abstract or "")  # the store keeps the source

    site = Site(settings, engine, Clock(now))
    for paper in papers:
        page = site.client.get(paper_page("", paper.id))
        assert page.status_code == 200
        assert_no_latex(page.text, f"/paper/{paper.id}")
    assert "O(n²)" in site.client.get(paper_page("", "2510.11001")).text

    with transaction(engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
        set_status(connection, issue.id, "done", now)
    assert_no_latex(site.client.get(f"/issue/{issue.id}").text, f"/issue/{issue.id}")
    assert_no_latex(site.client.get("/archive").text, "/archive")

    shown = ShownDigest(
        issue_id=1,
        issue_date=now.date().isoformat(),
        frequency="daily",
        at=now,
        view_url="https://digest.example.org/view/1",
        papers=tuple(
            ShownPaper(p, card_view(p), ("related to: graphs",), "https://m", "https://l")
            for p in papers
        ),
    )
    feed = atom_feed(
        app_name="Paper digest",
        base_url="https://digest.example.org",
        feed_url="https://digest.example.org/feed/x.atom",
        feed_key="x",
        since=datetime(2026, 1, 1, tzinfo=UTC),
        digests=[shown],
    ).decode("utf-8")
    assert_no_latex(feed, "feed")
    assert_no_latex(json.dumps(issue_json(shown), ensure_ascii=False), "JSON")
    for paper in papers:
        assert_no_latex(subject_line(paper.title, 3, "Paper digest"), f"subject of {paper.id}")
