""" "View in browser", the Atom feed and the JSON view are the mail (issue 23): after a real
`digest run --once` through an SMTP sink, each subscriber's web view (/view/<token>), feed
(/feed/<token>.atom) and JSON (/view/<token>.json), fetched over HTTP from a real server and
parsed, show the papers, order, headings and reasons of the message they were sent. Three
readers: one with several topics (topic headings), one with likes ("like: ..." reasons) and one
with no topics (the trending digest: theme headings, no why lines)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from digest.compose.cards import why_line
from papercore.db.schema import papers as papers_table
from papercore.db.schema import subscribers
from tests.conftest import SAMPLE_PAGES
from tests.e2e.test_feed import Served, served  # noqa: F401 (the live server fixture)

pytestmark = pytest.mark.slow
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Card:
    """One paper as a surface shows it: its title, the heading opened before it, its reasons."""

    title: str
    heading: str | None = None
    why: str = ""


@dataclass
class Shown:
    """What a parsed page shows, in order."""

    cards: list[Card] = field(default_factory=list)
    lead_label: str = ""


class _Capture(HTMLParser):
    """Collects the text of elements picked by ``wanted(tag, attrs)``, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str]] = []  # (what, text)
        self._open: list[tuple[str, int, list[str]]] = []  # (what, depth, text)
        self._depth = 0

    def wanted(self, tag: str, attrs: dict[str, str]) -> str | None:
        raise NotImplementedError

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self._depth += 1
        what = self.wanted(tag, found)
        if what:
            self._open.append((what, self._depth, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][1] == self._depth:
            what, _, text = self._open.pop()
            self.events.append((what, " ".join("".join(text).split())))
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)


class _MailParser(_Capture):
    def wanted(self, tag: str, attrs: dict[str, str]) -> str | None:
        classes = attrs.get("class", "").split()
        for name in ("pd-group", "pd-label", "pd-title", "pd-why"):
            if tag == "div" and name in classes:
                return name
        return None


class _FeedParser(_Capture):
    def wanted(self, tag: str, attrs: dict[str, str]) -> str | None:
        return {"h2": "pd-group", "h3": "pd-title", "p": "p"}.get(tag)


def shown_by(parser: _Capture, page: str) -> Shown:
    """The cards of a digest page, from its parsed events."""
    parser.feed(page)
    parser.close()
    found, heading = Shown(), None
    for what, text in parser.events:
        if what == "pd-group":
            heading = text
        elif what == "pd-label":
            found.lead_label = text
        elif what == "pd-title":
            found.cards.append(Card(re.sub(r"^\d+\. ", "", text), heading))
            heading = None
        elif what == "pd-why":
            found.cards[-1].why = text.removeprefix("Why:").strip()
        elif what == "p" and text.startswith("Why: "):
            found.cards[-1].why = text.removeprefix("Why: ")
    return found


def differ(shown: Shown, mail: Shown) -> str:
    """Where two surfaces part, for a failure message."""
    lines = [f"lead label {shown.lead_label!r} / mail {mail.lead_label!r}"]
    for i in range(max(len(shown.cards), len(mail.cards))):
        one = shown.cards[i] if i < len(shown.cards) else None
        two = mail.cards[i] if i < len(mail.cards) else None
        lines.append(f"{'  ' if one == two else '!='} {i}: {one} / mail {two}")
    return "\n".join(lines)


def mail_of(live: Served, address: str) -> tuple[str, str]:
    """The sent message's HTML body and its "View in browser" link, as the sink received it."""
    (received,) = [m for m in live.sink.received if address in m.recipients]
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(("html",))
    assert part is not None
    body = str(part.get_content())  # type: ignore[attr-defined]
    (view,) = set(re.findall(r'href="([^"]*/view/[^"]+)"', body))
    return body, view.replace("&amp;", "&")


def feed_of(http: httpx.Client, live: Served, address: str) -> Shown:
    """The subscriber's Atom feed (one issue) parsed: its entry's cards."""
    answer = http.get(str(live.export(address)["feed_url"]))
    assert answer.status_code == 200, answer.text
    root = ET.fromstring(answer.content)
    subtitle = root.findtext(f"{ATOM}subtitle") or ""
    assert "in the order, under the headings and with the reasons shown" in subtitle
    (entry,) = root.findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    return shown_by(_FeedParser(), content.text or "")


def json_of(http: httpx.Client, view: str) -> Shown:
    """The issue's JSON view parsed: each paper's link, heading and reasons (as one line)."""
    answer = http.get(f"{view}.json")
    assert answer.status_code == 200, answer.text
    return json_of_page(answer.json())


def json_of_page(data: dict[str, list[dict[str, object]]]) -> Shown:
    """The JSON view's papers: each one's link, heading and reasons (as the mail's one line)."""
    papers: list[dict[str, Any]] = data["papers"]
    return Shown([Card(p["title"], p["heading"], why_line(tuple(p["why"]))) for p in papers])


def test_the_web_view_feed_and_json_show_what_the_mail_showed(served: Served) -> None:  # noqa: F811
    live = served
    readers = {
        "topics@example.org": (
            "--topic", "language models", "--topic", "graph neural networks",
            "--topic", "diffusion", "--topic", "reinforcement learning",
        ),
        "likes@example.org": (),  # no topics: ranked by the papers they liked
        "trending@example.org": (),
    }  # fmt: skip
    for address, topics in readers.items():
        live.cli("subscribe", address, "--confirmed", *topics, env=live.env)
    live.cli("ingest", *map(str, SAMPLE_PAGES), env=live.env)
    papers = json.loads(live.cli("papers", "list", "--json", env=live.env).stdout)
    liked = [p["id"] for p in papers if "graph" in p["title"].lower()][:2]
    assert liked, "the sample has papers about graphs"
    live.cli("feedback", "likes@example.org", *[a for i in liked for a in ("--more", i)])
    with live.engine.begin() as connection:  # joined two days ago: due now, whatever the hour
        connection.execute(
            subscribers.update().values(confirmed_at=datetime.now(UTC) - timedelta(days=2))
        )
        # a fresh week of papers (the sample's dates are spread over years): the trending
        # digest then has enough of them to group under themes
        connection.execute(papers_table.update().values(published=datetime.now(UTC).date()))
    live.cli("run", "--dev", "--once", env=live.env, timeout=300)
    assert sorted(a for m in live.sink.received for a in m.recipients) == sorted(readers)

    mails: dict[str, Shown] = {}
    with httpx.Client(timeout=60) as http:
        for address in readers:
            body, view = mail_of(live, address)
            mail = mails[address] = shown_by(_MailParser(), body)
            assert len(mail.cards) >= 3, address
            page = http.get(view)
            assert page.status_code == 200, page.text
            web = shown_by(_MailParser(), page.text)
            assert web == mail, f"{address}: the web view is not the mail\n{differ(web, mail)}"
            feed = Shown(feed_of(http, live, address).cards, mail.lead_label)
            assert feed == mail, f"{address}: the feed\n{differ(feed, mail)}"
            data = Shown(json_of(http, view).cards, mail.lead_label)
            assert data == mail, f"{address}: the JSON\n{differ(data, mail)}"

    # The three readers are what the test says they are: headings by topic, reasons by like,
    # and a trending digest with theme headings and no why lines.
    topical = mails["topics@example.org"]
    headings = [c.heading for c in topical.cards if c.heading]
    assert len(headings) >= 2 and "More for you" not in headings[:1], headings
    assert all(c.why for c in topical.cards)
    liking = mails["likes@example.org"]
    assert liking.lead_label == "Top pick for you"
    assert any(c.why.startswith("like: ") for c in liking.cards), liking
    trending = mails["trending@example.org"]
    assert trending.lead_label == "Top of the issue"  # no sample paper has a vote
    assert not any(c.why for c in trending.cards)
    assert {c.heading for c in trending.cards} - {None, "Also trending"}, "a theme heading"
