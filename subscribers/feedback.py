""" "More like this" / "less like this": a click on a paper nudges the subscriber's interests.

The rule (documented in docs/ARCHITECTURE.md, Web):
- more: each of the subscriber's topics that the paper mentions gains STEP weight (up to MAX);
  the paper's key phrases (up to LEARN, see keyphrases.paper_phrases) that are not yet interests
  are added as topics of weight STEP; a muted phrase the paper mentions is unmuted.
- less: each topic the paper mentions loses STEP weight (down to MIN, so a topic the person typed
  is never deleted by a click); if the paper mentions none of their topics (it came in as trending
  or through a learned phrase), its first key phrase is muted instead.
A second click in the same direction on the same paper changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection

from papercore.papers import Paper
from subscribers import store
from subscribers.keyphrases import mentions, paper_phrases
from subscribers.model import MAX_INTERESTS, Interest, InterestKind, Subscriber

STEP = 0.5
MAX_WEIGHT = 3.0
MIN_WEIGHT = 0.1
LEARN = 2


@dataclass(frozen=True, slots=True)
class Adjustment:
    """What a click changed, for the thank-you line and the event log."""

    strengthened: tuple[str, ...] = ()
    weakened: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    muted: tuple[str, ...] = ()
    unmuted: tuple[str, ...] = ()
    repeated: bool = False


def adjust(
    interests: tuple[Interest, ...], paper: Paper, more: bool
) -> tuple[list[Interest], Adjustment]:
    """The subscriber's interests after one click (pure)."""
    topics = [i for i in interests if i.kind == "topic"]
    others = [i for i in interests if i.kind != "topic"]
    matched = {i.phrase for i in topics if mentions(paper, i.phrase)}
    known = {i.phrase.lower() for i in interests}
    room = MAX_INTERESTS - len(topics)
    if more:
        new_topics = [
            Interest("topic", i.phrase, min(i.weight + STEP, MAX_WEIGHT))
            if i.phrase in matched
            else i
            for i in topics
        ]
        fresh = [p for p in paper_phrases(paper) if not _covered(p, known)]
        added = fresh[: max(0, min(LEARN, room))]
        new_topics += [Interest("topic", p, STEP) for p in added]
        unmuted = [i.phrase for i in others if i.kind == "mute" and mentions(paper, i.phrase)]
        others = [i for i in others if i.phrase not in unmuted or i.kind != "mute"]
        return new_topics + others, Adjustment(
            strengthened=tuple(sorted(matched)), added=tuple(added), unmuted=tuple(unmuted)
        )
    if matched:
        new_topics = [
            Interest("topic", i.phrase, max(i.weight - STEP, MIN_WEIGHT))
            if i.phrase in matched
            else i
            for i in topics
        ]
        return new_topics + others, Adjustment(weakened=tuple(sorted(matched)))
    mutes = [i for i in others if i.kind == "mute"]
    candidates = [p for p in paper_phrases(paper) if not _covered(p, known)]
    if not candidates or len(mutes) >= MAX_INTERESTS:
        return list(interests), Adjustment()
    return [*topics, *others, Interest("mute", candidates[0], 1.0)], Adjustment(
        muted=(candidates[0],)
    )


def _covered(phrase: str, known: set[str]) -> bool:
    """Whether an interest already says this (the same words, or more of them)."""
    return any(f" {phrase} " in f" {k} " or f" {k} " in f" {phrase} " for k in known)


def record_feedback(
    connection: Connection,
    person: Subscriber,
    paper: Paper,
    more: bool,
    now: datetime,
    *,
    issue_id: int | None,
) -> Adjustment:
    """Apply one click and log it; a repeat of the latest click on this paper is a no-op."""
    direction: Literal[1, -1] = 1 if more else -1
    earlier = [
        e["detail"].get("d")
        for e in store.events(connection, person.id)
        if e["kind"] == "feedback" and (e["detail"] or {}).get("paper") == paper.id
    ]
    if earlier and earlier[-1] == direction:
        return Adjustment(repeated=True)
    after, change = adjust(person.interests, paper, more)
    kinds: tuple[InterestKind, ...] = ("topic", "author", "mute")
    for kind in kinds:
        chosen = [i for i in after if i.kind == kind]
        store.set_interests(
            connection,
            person.id,
            kind,
            [i.phrase for i in chosen],
            {i.phrase: i.weight for i in chosen},
        )
    store.record_event(
        connection,
        person.id,
        "feedback",
        now,
        detail={
            "paper": paper.id,
            "d": direction,
            "issue": issue_id,
            "strengthened": list(change.strengthened),
            "weakened": list(change.weakened),
            "added": list(change.added),
            "muted": list(change.muted),
            "unmuted": list(change.unmuted),
        },
    )
    return change
