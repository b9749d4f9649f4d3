"""A subscriber's shown issues as an Atom 1.0 feed and one issue as JSON: pure functions of the
digest plan the mail showed (papers in its order, under its headings, with its why lines)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from digest.compose.cards import CardView, card_view, why_line
from digest.compose.text import clean
from papercore.papers import Paper

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


@dataclass(slots=True)
class Cards:
    """The cards of one request: each paper's card built once, however many times the feed's
    entry, summary and links or the JSON view read it (a card summarises the abstract)."""

    build: Callable[[Paper], CardView] = card_view
    made: dict[str, CardView] = field(default_factory=dict)

    def of(self, paper: Paper) -> CardView:
        found = self.made.get(paper.id)
        if found is None:
            found = self.made[paper.id] = self.build(paper)
        return found


@dataclass(frozen=True, slots=True)
class ShownPaper:
    """One paper as a subscriber saw it, its card (built once per request), their "more / less
    like this" landing pages and the heading the mail opened a group with before it."""

    paper: Paper
    card: CardView
    why: tuple[str, ...]
    more: str
    less: str
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class ShownDigest:
    """One issue of one subscriber: its papers in order and their own copy's page."""

    issue_id: int
    issue_date: str  # ISO date
    frequency: str
    at: datetime  # when it was sent or filed
    view_url: str
    papers: tuple[ShownPaper, ...]

    @property
    def title(self) -> str:
        kind = "Weekly digest" if self.frequency == "weekly" else "Daily digest"
        return f"{kind} #{self.issue_id} · {self.issue_date}"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(base_url: str, day: str, what: str) -> str:
    """A tag URI (RFC 4151): stable ids that do not change when the feed URL is renewed."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{day}:{what}"


def paper_links(shown: ShownPaper) -> dict[str, str]:
    """Where to read the paper (paper, pdf, code as the mail lists them) and the feedback pages."""
    card = shown.card
    found = {"paper": card.link}
    found |= {b.label.lower(): b.link for b in card.links if b.link}
    return found | {"more_like_this": shown.more, "less_like_this": shown.less}


def _entry_html(digest: ShownDigest) -> str:
    """The entry's HTML, every text escaped (titles and abstracts come from outside)."""
    parts: list[str] = []
    for number, shown in enumerate(digest.papers, 1):
        card, e = shown.card, html.escape
        links = paper_links(shown)
        reads = " · ".join(
            f'<a href="{e(url)}">{e(name.capitalize())}</a>'
            for name, url in links.items()
            if name not in ("more_like_this", "less_like_this")
        )
        if shown.heading:
            parts.append(f"<h2>{e(shown.heading)}</h2>")
        parts.append(f'<h3>{number}. <a href="{e(card.link)}">{e(card.title)}</a></h3>')
        if card.authors:
            parts.append(f"<p><em>{e(card.authors)}</em></p>")
        if shown.why:
            parts.append(f"<p>Why: {e(why_line(shown.why))}</p>")
        if card.summary:
            parts.append(f"<p>{e(card.summary)}</p>")
        parts.append(
            f"<p>{reads} · "
            f'<a href="{e(shown.more)}">More like this</a> · '
            f'<a href="{e(shown.less)}">Less like this</a></p>'
        )
    return "\n".join(parts)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element; its text and attributes hold only what XML 1.0 can carry (one line:
    the entry's HTML needs no line breaks)."""
    safe = {name: clean(value) for name, value in attrs.items()}
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", safe)
    if text is not None:
        element.text = clean(text)
    return element


def atom_feed(
    *,
    app_name: str,
    base_url: str,
    feed_url: str,
    feed_key: str,
    since: datetime,
    digests: list[ShownDigest],
) -> bytes:
    """The Atom 1.0 document (RFC 4287) of ``digests`` (newest first), one entry per issue.
    ``feed_key`` names the subscriber in the feed's id; ``since`` dates an empty feed."""
    updated = max((d.at for d in digests), default=since)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", _tag(base_url, since.strftime("%Y-%m-%d"), f"feed/{feed_key}"))
    _add(feed, "title", f"{app_name}: your papers")
    _add(
        feed,
        "subtitle",
        "The papers of your digests, in the order, under the headings and with the reasons shown",
    )
    _add(feed, "updated", _stamp(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/")
    author = _add(feed, "author")
    _add(author, "name", app_name)
    _add(feed, "generator", "paper-digest")
    for digest in digests:
        entry = _add(feed, "entry")
        _add(entry, "id", _tag(base_url, digest.issue_date, f"issue/{digest.issue_id}"))
        _add(entry, "title", digest.title)
        _add(entry, "updated", _stamp(digest.at))
        _add(entry, "published", _stamp(digest.at))
        _add(entry, "link", rel="alternate", type="text/html", href=digest.view_url)
        names = "; ".join(p.card.title for p in digest.papers)
        _add(entry, "summary", f"{len(digest.papers)} papers: {names}")
        _add(entry, "content", _entry_html(digest), type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def issue_json(digest: ShownDigest) -> dict[str, Any]:
    """One issue as the JSON view serves it (the README's "JSON view" section)."""
    return {
        "issue": {
            "id": digest.issue_id,
            "date": digest.issue_date,
            "frequency": digest.frequency,
            "url": digest.view_url,
        },
        "papers": [
            {
                "id": shown.paper.id,
                "title": clean(shown.paper.title),
                "authors": [name for name in map(clean, shown.paper.authors) if name],
                "links": paper_links(shown),
                "summary": shown.card.summary,
                "why": [line for line in map(clean, shown.why) if line],
                "heading": clean(shown.heading) if shown.heading else None,
            }
            for shown in digest.papers
        ],
    }
