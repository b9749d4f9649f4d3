"""How one subscriber's digest is laid out, from their picks: which paper leads, which topic
heading each card sits under, the subject and the preheader. Pure functions of the picks, the
subscriber's topics and the issue's date; the templates only show what these decide."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from digest.compose.cards import PickLike
from digest.compose.text import clean, clean_phrase, shorten

SUBJECT_TITLE = 60  # what a phone shows of a subject line, about
PREHEADER_LIMIT = 140
OTHER = "More for you"
TRENDING_REST = "Also trending"
PUBLIC_REST = "More in this issue"


@dataclass(frozen=True, slots=True)
class Placed:
    """A pick where it goes: ``lead`` for the top story, ``heading`` when a new group starts
    with this card (the group's name), else None."""

    pick: PickLike
    lead: bool
    heading: str | None


def is_trending(topics: Sequence[str], authors: Sequence[str]) -> bool:
    """A subscriber with nothing to match gets the trending digest."""
    return not topics and not authors


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
    picks: Sequence[PickLike], topics: Sequence[str], trending: bool, *, public: bool = False
) -> list[Placed]:
    """The lead story, then the rest grouped under the topic their reasons name (groups in
    the order of their best pick, rank order inside a group; "More for you" for the rest).
    The trending digest and the public archive are one ranked list after the lead."""
    if not picks:
        return []
    placed = [Placed(picks[0], True, None)]
    rest = picks[1:]
    if trending or public:
        first = TRENDING_REST if trending else PUBLIC_REST
        return placed + [Placed(p, False, first if i == 0 else None) for i, p in enumerate(rest)]
    groups: dict[str, list[PickLike]] = {}
    for pick in rest:
        groups.setdefault(topic_of(pick.why, topics) or OTHER, []).append(pick)
    if OTHER in groups:  # the unlabelled papers come last
        groups[OTHER] = groups.pop(OTHER)
    for name, members in groups.items():
        placed += [Placed(p, False, name if i == 0 else None) for i, p in enumerate(members)]
    return placed


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
        about = "Trending this week: the most upvoted new papers"
    elif topics:
        about = "For your topics: " + ", ".join(clean_phrase(t) for t in topics)
    else:
        about = "Your research digest"
    if not picks:
        return shorten(f"No new papers this time. {about}.", PREHEADER_LIMIT)
    return shorten(about, PREHEADER_LIMIT)
