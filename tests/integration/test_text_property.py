"""Property (issue 22, item 2): whatever Unicode a source sends as a title, authors and abstract
(surrogates, noncharacters, controls, bidi overrides included), ingest → the email → the Atom
feed → JSON never fail, the card is never dropped, and every output is valid (the message
parses, the feed is well-formed XML, the JSON parses)."""

from __future__ import annotations

import email
import email.policy
import json
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from digest.cli.papers import paper_json
from digest.compose import Composer, IssueInfo
from digest.compose.cards import card_view, paper_page
from digest.paper_store import ingest, list_papers
from digest.ranking import Pick
from digest.sources import parse
from digest.sources.fetch import Document
from digest.web.feed_view import ShownDigest, ShownPaper, atom_feed, issue_json
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import papers
from papercore.errors import ParseError
from papercore.papers import Paper
from subscribers.links import SubscriberLinks
from subscribers.model import Interest, Subscriber
from subscribers.tokens import Signer
from tests.web_site import Clock, Site

HOSTILE = [
    "\uffff", "\ufffe", "\ufdd0", "\U0001fffe", "\U0010ffff", "\x00", "\x1f", "\x85", "\ud800",
    "\udfff", "\u202e", "\u200b", "\ufeff", "\u2028", "<", "&", "]", ">", "\"", "'", "=", "\n",
]  # fmt: skip
# Every code point may come (nothing is excluded, surrogates neither), and the ones that broke
# something come often.
TEXT = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(HOSTILE)), max_size=120
)
ARXIV_ID = "2411.00042"


def _hf_document(title: str, authors: list[str], abstract: str) -> Document:
    """A Hugging Face daily-papers document; json.dumps escapes what UTF-8 cannot carry
    (a lone surrogate travels as \\ud800, as a real API could send it)."""
    item = {
        "paper": {
            "id": ARXIV_ID,
            "title": title,
            "summary": abstract,
            "authors": [{"name": name} for name in authors],
            "ai_summary": abstract[::-1],
        },
        "title": title,
    }
    return Document("daily_papers.json", json.dumps([item]).encode("ascii"))


def _ingest(engine: Engine, now: datetime, title: str, authors: list[str], abstract: str) -> Paper:
    """The paper through the real source parser and the paper store, as read back."""
    with transaction(engine) as connection:
        connection.execute(delete(papers))
    try:
        found = parse(_hf_document(title, authors, abstract), "hf", now)
    except ParseError as exc:  # a title with nothing readable left: a one-line error
        assert "paper.title is missing" in str(exc)
        found = [Paper(ARXIV_ID, title, abstract, authors=tuple(authors))]  # the store cleans
    ingest(engine, found, now)
    with engine.connect() as connection:
        (stored,) = list_papers(connection)
    return stored


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=TEXT, authors=st.lists(TEXT, max_size=4), abstract=TEXT, topic=TEXT)
def test_any_unicode_goes_through_ingest_render_feed_and_json(
    site: Site, now: datetime, title: str, authors: list[str], abstract: str, topic: str
) -> None:
    stored = _ingest(site.engine, now, title, authors, abstract)
    why = (f"matches: {topic}", f"like: {title}")

    # the email: rendered, never dropped, a message that parses
    base_url = site.settings.app.base_url
    prepared = Composer(site.settings).prepare(IssueInfo(5, now.date(), "daily"), [stored])
    assert prepared.dropped == set()
    reader = Subscriber(id=3, email="reader@example.com", interests=(Interest("topic", "x"),))
    links = SubscriberLinks(base_url, Signer.from_settings(site.settings.web), 3, 0, 5, now)
    message = prepared.message(reader, [Pick(stored, 1.0, 1.0, why)], links)
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert parsed["Subject"] and message.html.count("<html") == 1
    assert "\uffff" not in message.html and "\ufffe" not in message.text
    assert prepared.generic_html([Pick(stored, 1.0, 1.0, why)])

    # the Atom feed: well-formed XML
    shown = ShownPaper(
        stored,
        card_view(stored, base_url),
        why,
        links.feedback(stored.id, True),
        links.feedback(stored.id, False),
    )
    digest = ShownDigest(5, now.date().isoformat(), "daily", now, links.view_in_browser, (shown,))
    feed = atom_feed(
        app_name="Paper Digest",
        base_url=base_url,
        feed_url=f"{base_url}/feed/t.atom",
        feed_key="k",
        since=now,
        digests=[digest],
    )
    ET.fromstring(feed)

    # JSON: the JSON view and `digest papers list --json`, as UTF-8 bytes that parse back
    for data in (issue_json(digest), [paper_json(stored)]):
        text = json.dumps(data, ensure_ascii=False)
        assert json.loads(text.encode("utf-8")) == json.loads(json.dumps(data))

    # the paper's own page
    page = site.client.get(paper_page("", stored.id))
    assert page.status_code == 200
