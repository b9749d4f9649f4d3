"""How one subscriber's digest is laid out, from their picks: which paper leads, which topic
heading each card sits under, the subject and the preheader. Pure functions of the picks, the
subscriber's topics and the issue's date; the templates only show what these decide."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from digest.compose.cards import PickLike
from digest.compose.text import clean, clean_phrase, shorten
from papercore.papers import Paper

SUBJECT_TITLE = 60  # what a phone shows of a subject line, about
PREHEADER_LIMIT = 140
OTHER = "More for you"
TRENDING_REST = "Also trending"
PUBLIC_REST = "More in this issue"
LEAD_LABELS = {
    "personal": "Top pick for you",
    "trending": "Top of the issue",
    "public": "Top of the issue",
}
TRENDING_ABOUT = "Trending this week: new papers ranked by upvotes, comments and recency"


@dataclass(frozen=True, slots=True)
class Placed:
    """A pick where it goes: ``lead`` for the top story, ``heading`` when a new group starts
    with this card (the group's name), else None."""

    pick: PickLike
    lead: bool
    heading: str | None


def is_trending(topics: Sequence[str], authors: Sequence[str], likes: bool = False) -> bool:
    """A subscriber with nothing to match (no topics, no authors, no "more like this" click)
    gets the trending digest; one who only liked papers is ranked by them (digest.ranking)."""
    return not topics and not authors and not likes


@lru_cache(maxsize=4096)
def _topic_pattern(topic: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(topic.casefold()) + r"(?!\w)")


def topic_of(why: Sequence[str], topics: Sequence[str]) -> str | None:
    """The first of the subscriber's topics that the ranking's reasons name, whatever their
    wording ("matches: X", "related to X"); None when they name none."""
    reasons = " | ".join(why).casefold()
    for topic in topics:
        if topic.strip() and _topic_pattern(topic.strip()).search(reasons):
            return clean_phrase(topic)
    return None


def place(
    picks: Sequence[PickLike],
    topics: Sequence[str],
    trending: bool,
    *,
    public: bool = False,
    themes: Mapping[str, str | None] | None = None,
) -> list[Placed]:
    """The lead story, then the rest grouped: under the topic their reasons name, or, for the
    trending digest and the public archive (no topics), under the paper's theme (``themes``:
    paper id -> theme) when at least two papers share it. Groups come in the order of their
    best pick, rank order inside a group, the papers without a group last ("More for you",
    "Also trending", "More in this issue")."""
    if not picks:
        return []
    rest = picks[1:]
    if trending or public:
        other = TRENDING_REST if trending else PUBLIC_REST
        found = themes or {}
        groups = _grouped(rest, lambda pick: found.get(pick.paper.id), other, at_least=2)
    else:
        groups = _grouped(rest, lambda pick: topic_of(pick.why, topics), OTHER, at_least=1)
    placed = [Placed(picks[0], True, None)]
    for name, members in groups.items():
        placed += [Placed(p, False, name if i == 0 else None) for i, p in enumerate(members)]
    return placed


def _grouped(
    picks: Sequence[PickLike],
    group_of: Callable[[PickLike], str | None],
    other: str,
    at_least: int,
) -> dict[str, list[PickLike]]:
    """Picks by group, in order of each group's best pick; groups smaller than ``at_least``
    and picks without a group go, in rank order, to ``other`` at the end."""
    named = [(group_of(pick), pick) for pick in picks]
    sizes = Counter(name for name, _ in named if name)
    groups: dict[str, list[PickLike]] = {}
    for name, pick in named:
        key = name if name and sizes[name] >= at_least and name != other else other
        groups.setdefault(key, []).append(pick)
    if other in groups:
        groups[other] = groups.pop(other)
    return groups


def lead_label(picks: Sequence[PickLike], mode: str) -> str:
    """What the lead card is called. The trending digest's lead is "Most upvoted" only when it
    has votes and no other pick has more, "Most discussed" likewise for comments; else it is
    what it always is, the top of the issue ("personal", "trending" or "public")."""
    if mode != "trending" or not picks:
        return LEAD_LABELS[mode]
    lead = picks[0].paper
    if lead.upvotes and lead.upvotes >= max(p.paper.upvotes or 0 for p in picks):
        return "Most upvoted"
    if lead.comments and lead.comments >= max(p.paper.comments or 0 for p in picks):
        return "Most discussed"
    return LEAD_LABELS[mode]


@dataclass(frozen=True, slots=True)
class PlannedCard:
    """One card of a digest as every surface shows it: the paper, the reasons it shows (none
    in the trending digest, whose intro says how it is ranked) and the heading that opens a
    group with it. The first card is the lead."""

    paper: Paper
    why: tuple[str, ...]
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """One subscriber's digest laid out: ``mode`` ("personal", "trending" or "public"), the
    topics its intro names and its cards in the order shown. The mail, the web view, the feed
    and the JSON view all show a plan, so they show the same papers, order, headings and
    reasons."""

    mode: str
    topics: tuple[str, ...]
    cards: tuple[PlannedCard, ...]

    @property
    def trending(self) -> bool:
        return self.mode == "trending"

    @property
    def paper_ids(self) -> tuple[str, ...]:
        return tuple(card.paper.id for card in self.cards)


def plan_digest(
    picks: Sequence[PickLike],
    topics: Sequence[str],
    authors: Sequence[str],
    *,
    likes: bool = False,
    public: bool = False,
    themes: Mapping[str, str | None] | None = None,
) -> DigestPlan:
    """The plan of ``picks`` (best first) for a reader of ``topics`` and ``authors`` (none: the
    trending digest, unless they ``likes`` papers), or for the public archive: ``place``
    decides order and headings."""
    trending = is_trending(topics, authors, likes)
    mode = "public" if public else "trending" if trending else "personal"
    trending = mode == "trending"
    placed = place(picks, topics, trending, public=public, themes=themes)
    cards = tuple(
        PlannedCard(p.pick.paper, () if trending else tuple(p.pick.why), p.heading) for p in placed
    )
    return DigestPlan(mode, tuple(topics) if mode == "personal" else (), cards)


def title_of(pick: PickLike) -> str:
    return _clean_title(pick.paper.title)


@lru_cache(maxsize=65536)
def _clean_title(title: str) -> str:
    return clean(title) or "(untitled)"


@lru_cache(maxsize=65536)
def _also(titles: tuple[str, ...]) -> str:
    shown = [shorten(_clean_title(t), 70) for t in titles]
    return shorten("Also: " + " · ".join(shown), PREHEADER_LIMIT)


def subject_line(top_title: str | None, count: int, app_name: str) -> str:
    """The best match's title in at most 60 characters, plus "+N more" for the other
    ``count - 1`` picks; no date (the Date header has it)."""
    if top_title is None or not count:
        return f"No new papers this time · {app_name}"
    top = shorten(clean(top_title) or "(untitled)", SUBJECT_TITLE)
    return top if count == 1 else f"{top} +{count - 1} more"


def preheader(picks: Sequence[PickLike], topics: Sequence[str], trending: bool) -> str:
    """The line inboxes show after the subject: the next picks' titles (the subject already
    names the first), else the topics or what the digest is."""
    if len(picks) > 1:
        return _also(tuple(p.paper.title for p in picks[1:4]))
    if trending:
        about = TRENDING_ABOUT
    elif topics:
        about = "For your topics: " + ", ".join(clean_phrase(t) for t in topics)
    else:
        about = "Your research digest"
    if not picks:
        return shorten(f"No new papers this time. {about}.", PREHEADER_LIMIT)
    return shorten(about, PREHEADER_LIMIT)
