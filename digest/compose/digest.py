"""The digest: rendered once per issue (``Composer.prepare``), assembled per subscriber
(``PreparedIssue.message``) from ready pieces, within the HTML size budget."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from digest.compose import environment, plan
from digest.compose.card_faults import render_without_faulty
from digest.compose.cards import CardView, PickLike, card_view, why_line
from digest.compose.environment import compile_mjml, email_environment
from digest.compose.fragments import Assembly, Marks, Part, Region, Slot, regions
from digest.compose.headers import (
    address_header,
    check_address,
    date_header,
    domain_of,
    list_unsubscribe,
    one_line,
    unstructured,
)
from digest.compose.message_ids import MessageIds
from digest.compose.mime import OutgoingMessage, boundary_for, multipart_alternative
from digest.compose.plan import DigestPlan, PlannedCard, plan_digest
from digest.compose.text import clean, shorten, wrap
from digest.compose.themes import theme_of
from papercore.config import Settings
from subscribers.links import SubscriberLinks, issue_link
from subscribers.model import Subscriber

log = logging.getLogger("digest.compose")
_NONE: frozenset[str] = frozenset()
# Room kept for the footer's personal links and the "N more papers" block, on top of their
# static size, when deciding how many cards fit the budget.
_SLACK = 2_000


@dataclass(frozen=True, slots=True)
class IssueInfo:
    id: int  # the issue number
    date: date
    frequency: str  # "daily" | "weekly"

    @property
    def date_text(self) -> str:
        return f"{self.date.day} {self.date:%b %Y}"

    @property
    def kind_title(self) -> str:
        return "Weekly digest" if self.frequency == "weekly" else "Daily digest"


@dataclass(frozen=True, slots=True)
class Document:
    """One rendered digest cut into: what comes before the cards, each paper's card, after."""

    head: Region
    cards: dict[str, Region]
    tail: Region


def split_document(parts: tuple[Part, ...], ids: Sequence[str]) -> Document:
    cards = regions(parts, "card")
    if len(cards) != len(ids):
        raise ValueError(f"the template rendered {len(cards)} cards for {len(ids)} papers")
    where = [i for i, p in enumerate(parts) if isinstance(p, Region) and p.name == "card"]
    if not where:  # no papers: the cards would go where the "empty" notice is
        where = [i for i, p in enumerate(parts) if isinstance(p, Region) and p.name == "empty"]
        where = [where[0], where[0] - 1] if where else [len(parts), len(parts) - 1]
    return Document(
        Region.of("head", parts[: where[0]]),
        dict(zip(ids, cards, strict=True)),
        Region.of("tail", parts[where[-1] + 1 :]),
    )


def _text_value(slot: Slot, value: str) -> str:
    if " " not in value or "\n" in value:  # links, already wrapped text
        return value
    return wrap(value, indent=slot.indent)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Composer:
    """Renders email for one configuration. Built once per run; ``prepare`` once per issue."""

    def __init__(self, settings: Settings, templates_dir: Path | None = None) -> None:
        self.settings = settings
        self.root = environment.templates_dir(settings, templates_dir)
        self.env = email_environment(self.root)
        self.marks = Marks()
        sender = settings.sender
        self.domain = domain_of(check_address(sender.from_address))
        self.message_ids = MessageIds.from_settings(settings)
        self.static_headers = address_header("From", sender.from_name, sender.from_address)
        if sender.reply_to:
            self.static_headers += address_header("Reply-To", "", sender.reply_to)
        self.list_id = unstructured("List-Id", f"{settings.app.name} <{sender.list_id}>")

    def context(self, **values: Any) -> dict[str, Any]:
        """What every email template sees."""
        base_url = self.settings.app.base_url
        return {
            "lang": self.settings.app.lang,
            "app": {"name": self.settings.app.name, "base_url": base_url},
            "sender": self.settings.sender,
            "archive_url": f"{base_url}/archive",
            "slot": self.marks.slot,
            "region": self.marks.region,
            "mj_region": self.marks.mj_region,
            "html_region": self.marks.html_region,
            **values,
        }

    def render_sources(self, issue: IssueInfo, cards: Sequence[CardView]) -> tuple[str, str]:
        """The digest's MJML and plain text as Jinja renders them, marks included."""
        context = self.context(
            title=f"{self.settings.app.name} · {issue.kind_title} No. {issue.id}",
            issue={
                "number": issue.id,
                "date_text": issue.date_text,
                "frequency": issue.frequency,
                "kind_title": issue.kind_title,
            },
            cards=cards,
        )
        mjml_source = self.env.get_template("digest.mjml.j2").render(context)
        text_source = self.env.get_template("digest.txt.j2").render(context)
        return mjml_source, text_source

    def prepare(self, issue: IssueInfo, papers: Sequence[Any]) -> PreparedIssue:
        """Render every paper's card once; messages are then only assembled."""
        return PreparedIssue(self, issue, papers)


class PreparedIssue:
    """One issue, rendered. ``message`` is cheap and may be called millions of times."""

    def __init__(self, composer: Composer, issue: IssueInfo, papers: Sequence[Any]) -> None:
        self.composer = composer
        self.issue = issue
        settings = composer.settings
        self.budget = settings.templates.html_budget_bytes
        self.mailto = settings.sender.unsubscribe_mailto
        self.feedback_id = unstructured(
            "Feedback-ID",
            f"{issue.id}:{issue.frequency}:digest:{settings.sender.feedback_id_sender}",
        )
        self.issue_url = issue_link(settings.app.base_url, issue.id)
        self.base_url = settings.app.base_url
        self.dropped: set[str] = set()  # papers whose card cannot be rendered: never shown
        unique = {p.id: p for p in papers}
        self.themes: dict[str, str | None] = {p.id: theme_of(p) for p in unique.values()}
        self.html_doc, self.text_doc = render_without_faulty(
            self._views(list(unique.values())),
            self._render,
            lambda card, exc: self._drop(card.id, exc),
        )
        self._dates: dict[object, str] = {}

    def _render(self, cards: Sequence[CardView]) -> tuple[Document, Document]:
        mjml_source, text_source = self.composer.render_sources(self.issue, cards)
        marks = self.composer.marks
        ids = [c.id for c in cards]
        html_doc = split_document(marks.parse(compile_mjml(mjml_source)), ids)
        text_doc = split_document(marks.parse(text_source, text=True), ids)
        return html_doc, text_doc

    def _drop(self, paper_id: str, error: Exception) -> None:
        """Leave a paper out of the issue, with a warning: one bad card never stops an issue."""
        self.dropped.add(paper_id)
        why = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        fields = {"issue": self.issue.id, "paper": paper_id, "error": why}
        # the fields ride along for digest.schedule.events' formatters (`digest run`); the line
        # itself says it all where logging is not configured (`digest send`: stderr)
        log.warning(
            "card dropped: paper %s of issue %s (%s)",
            paper_id,
            self.issue.id,
            why,
            extra={"digest_fields": fields},
        )

    def _views(self, papers: Sequence[Any]) -> list[CardView]:
        """The papers' cards as the templates see them, without those that cannot be made."""
        views = []
        for paper in papers:
            try:
                views.append(card_view(paper, self.base_url))
            except Exception as exc:  # any paper's text, whatever it holds, costs only its card
                self._drop(paper.id, exc)
        return views

    def _has_card(self, paper: Any) -> bool:
        """Whether the paper's card is ready; papers that ``prepare`` did not see are rendered
        on first use (False, with a warning, when that fails)."""
        if paper.id in self.html_doc.cards:
            return True
        if paper.id in self.dropped:
            return False
        views = self._views([paper])
        if not views:
            return False
        try:
            extra_html, extra_text = self._render(views)
        except Exception as exc:
            self._drop(paper.id, exc)
            return False
        self.themes[paper.id] = theme_of(paper)
        self.html_doc.cards[paper.id] = extra_html.cards[paper.id]
        self.text_doc.cards[paper.id] = extra_text.cards[paper.id]
        return True

    def shown(self, picks: Sequence[PickLike]) -> list[PickLike]:
        """The picks whose card can be shown (a dropped card leaves its paper out)."""
        return [pick for pick in picks if self._has_card(pick.paper)]

    def _renderable(self, laid_out: DigestPlan) -> DigestPlan:
        """``laid_out`` without the cards that cannot be rendered; a dropped card's heading
        opens its group on the next card."""
        ready = [self._has_card(card.paper) for card in laid_out.cards]
        if all(ready):
            return laid_out
        cards: list[PlannedCard] = []
        heading: str | None = None
        for card, ok in zip(laid_out.cards, ready, strict=True):
            if not ok:
                heading = heading or card.heading
                continue
            if heading and not card.heading:
                card = replace(card, heading=heading)
            heading = None
            cards.append(card)
        return replace(laid_out, cards=tuple(cards))

    def _cards(self, pick: PickLike) -> tuple[Region, Region]:
        paper_id = pick.paper.id
        return self.html_doc.cards[paper_id], self.text_doc.cards[paper_id]

    def plan(self, subscriber: Subscriber, picks: Sequence[PickLike]) -> DigestPlan:
        """How the subscriber's digest of these picks is laid out: the trending digest (no
        topics, authors or likes) by theme, any other by the topics the reasons name."""
        likes = any(e.vote > 0 for e in subscriber.examples)
        return plan_digest(
            picks, subscriber.topics, subscriber.authors, likes=likes, themes=self.themes
        )

    def message(
        self, subscriber: Subscriber, picks: Sequence[PickLike], links: SubscriberLinks
    ) -> OutgoingMessage:
        """The complete personalised message for one subscriber (its picks are recent:
        digest.personal's rule), laid out by ``plan``. Picks whose card cannot be rendered are
        left out."""
        return self.render(subscriber, self.plan(subscriber, self.shown(picks)), links)

    def render(
        self, subscriber: Subscriber, laid_out: DigestPlan, links: SubscriberLinks
    ) -> OutgoingMessage:
        """The complete message of a digest already laid out: the one way a subscriber's
        digest becomes HTML and text, whether mailed now or shown again on the web. A card
        that cannot be rendered is left out (its heading passes to the next card)."""
        laid_out = self._renderable(laid_out)
        to = check_address(subscriber.email)
        unsubscribe, preferences, view = links.unsubscribe, links.preferences, links.view_in_browser
        values = {
            "preferences": _attr(preferences),
            "unsubscribe": _attr(unsubscribe),
            "view": _attr(view),
            "overflow_link": _attr(view),
        }
        text_values = {
            "preferences": preferences,
            "unsubscribe": unsubscribe,
            "view": view,
            "overflow_link": view,
        }
        encoded: dict[str, bytes] = {}
        # HTML values go in as they are: escaped before assembly (sizes count what is sent).
        html_out, text_out = Assembly(None, encoded), Assembly(_text_value, encoded)
        self._assemble(html_out, text_out, laid_out, values, text_values, links)
        body_html, body_text = "".join(html_out.text), "".join(text_out.text)
        picks = laid_out.cards

        subject = _subject_for(
            tuple(p.paper.title for p in picks[:1]), len(picks), self.composer.settings.app.name
        )
        msg_id = self.composer.message_ids.digest(self.issue.id, subscriber.id)
        date_line = self._dates.get(links.now)
        if date_line is None:
            date_line = self._dates[links.now] = date_header(links.now)
        token = unsubscribe.rsplit("/", 1)[-1]
        headers = "".join(
            (
                self.composer.static_headers,
                f"To: {to}\r\n",
                _subject_header(subject),
                date_line,
                f"Message-ID: {msg_id}\r\n",
                self.composer.list_id,
                list_unsubscribe(unsubscribe, self.mailto, token),
                self.feedback_id,
            )
        )
        data = multipart_alternative(headers, boundary_for(msg_id), text_out.qp, html_out.qp)
        return OutgoingMessage(to, subject, msg_id, body_html, body_text, data)

    def _assemble(
        self,
        html_out: Assembly,
        text_out: Assembly,
        laid_out: DigestPlan,
        values: dict[str, str],
        text_values: dict[str, str],
        links: SubscriberLinks | None,
    ) -> int:
        """Fill both documents with the plan's cards, in its order, with its headings and
        reasons; returns how many were shown in full. Cards that would take the HTML over
        budget become the "N more papers" link."""
        mode, topics, picks = laid_out.mode, laid_out.topics, laid_out.cards
        trending = laid_out.trending
        count = len(picks)
        values["count"] = text_values["count"] = _count_line(count, mode)
        if topics:
            values["topics"], text_values["topics"] = _topics_line(tuple(topics))
        values["preheader"] = html.escape(plan.preheader(picks, topics, trending))
        values["label"] = text_values["label"] = plan.lead_label(picks, mode)
        head_drop = _HEAD_DROPS[mode if mode != "personal" or topics else "public"]
        html_out.add(self.html_doc.head.flat(head_drop), values)
        text_out.add(self.text_doc.head.flat(head_drop), text_values)
        tail_drop = {"public", "empty"} if links else {"personal", "empty"}
        reserve = self.html_doc.tail.flat(frozenset(tail_drop)).size + _SLACK
        shown = 0
        for index, pick in enumerate(picks):
            html_card, text_card = self._cards(pick)
            why = why_line(pick.why)
            card_values = {"why": html.escape(why), "label": values["label"]}
            card_text = {"why": why, "label": values["label"]}
            if pick.heading:
                card_values["group"] = html.escape(pick.heading)
                card_text["group"] = pick.heading
            if links is not None:
                more = links.feedback(pick.paper.id, True)
                less = links.feedback(pick.paper.id, False)
                card_values["more"], card_values["less"] = _attr(more), _attr(less)
                card_text["more"], card_text["less"] = more, less
            drop = _card_drops(index == 0, bool(pick.heading), bool(why), links is not None)
            html_parts = html_card.flat(drop)
            if links is not None:
                size = html_parts.size + sum(len(v.encode()) for v in card_values.values())
                if html_out.size + size + reserve > self.budget:
                    break
            html_out.add(html_parts, card_values)
            text_out.add(text_card.flat(drop), card_text)
            shown += 1
        rest = count - shown
        if rest:
            values["overflow"] = text_values["overflow"] = (
                f"{_plural(rest, 'more paper')} picked for you: read them online"
            )
        else:
            tail_drop.add("overflow")
        if not count:
            tail_drop.discard("empty")
        html_out.add(self.html_doc.tail.flat(frozenset(tail_drop)), values)
        text_out.add(self.text_doc.tail.flat(frozenset(tail_drop)), text_values)
        return shown

    def generic_html(self, picks: Sequence[PickLike]) -> str:
        """The issue as the public web archive shows it: every pick, no personal links."""
        encoded: dict[str, bytes] = {}
        html_out, text_out = Assembly(None, encoded), Assembly(_text_value, encoded)
        laid_out = plan_digest(self.shown(picks), (), (), public=True, themes=self.themes)
        self._assemble(html_out, text_out, laid_out, {}, {}, None)
        return "".join(html_out.text)


def _attr(url: str) -> str:
    """``url`` escaped for an HTML attribute (signed links rarely need it: skip the work)."""
    return html.escape(url) if any(c in url for c in "&<>\"'") else url


# Which head regions are left out: the intro line fits who reads it.
_HEAD_DROPS = {
    "personal": frozenset(("trending",)),
    "trending": frozenset(("topics",)),
    "public": frozenset(("topics", "trending")),
}


@lru_cache(maxsize=64)
def _card_drops(lead: bool, heading: bool, why: bool, personal: bool) -> frozenset[str]:
    """The card regions a pick leaves out."""
    drop = {"compact"} if lead else {"lead"}
    if not heading:
        drop.add("group")
    if not why:
        drop.add("why")
    if not personal:
        drop.add("feedback")
    return frozenset(drop)


def _count_line(count: int, mode: str) -> str:
    if not count:
        return "Nothing new this time"
    if mode == "trending":
        return _plural(count, "trending paper")
    return _plural(count, "paper") + (" picked for you" if mode == "personal" else " in this issue")


@lru_cache(maxsize=4096)
def _topics_line(topics: tuple[str, ...]) -> tuple[str, str]:
    """The masthead's "Your topics" line: HTML-escaped, and as text."""
    shown = shorten(", ".join(clean(t) for t in topics), 160)
    return html.escape(shown), shown


@lru_cache(maxsize=4096)
def _subject_for(top: tuple[str, ...], count: int, app_name: str) -> str:
    return one_line(plan.subject_line(top[0] if top else None, count, app_name))


@lru_cache(maxsize=4096)
def _subject_header(subject: str) -> str:
    return unstructured("Subject", subject)
