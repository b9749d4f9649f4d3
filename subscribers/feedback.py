""" "More like this" / "less like this": a click stores an example that the ranker learns from.

The rule (the web page's button, `digest feedback` and seeding all follow it):
- a click on "more" (vote +1) or "less" (vote -1) for a paper stores one example: subscriber,
  paper, vote, when. A later click on the same paper replaces the earlier vote and its time.
- clicks never touch what the person typed: topics, authors and mutes stay as they are.
- only the newest ``ranking.examples_max`` examples (clicks and seeds together, default
  MAX_EXAMPLES) are kept, the oldest pruned, so no amount of clicking or seeding grows a profile
  without bound (the ranker also weighs older examples less).
- a click that changes a vote logs a ``feedback`` event naming the paper, the direction, the
  issue it came from and the way it came (page, cli); a repeat of the same vote only refreshes
  its time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from papercore.errors import InputError
from subscribers import store
from subscribers.model import Subscriber

MAX_EXAMPLES = 200  # the default of ranking.examples_max
MORE, LESS = 1, -1


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a batch of clicks did: the papers whose vote changed, and those already voted so."""

    changed: tuple[str, ...]
    repeated: tuple[str, ...]


def votes_from(more: Iterable[str], less: Iterable[str]) -> dict[str, int]:
    """One vote per paper from lists of "more" and "less" paper ids (pure). Raises InputError
    when a paper is in both."""
    votes = {paper: MORE for paper in more}
    both = [paper for paper in less if votes.get(paper) == MORE]
    if both:
        raise InputError(f"paper {both[0]} is marked both --more and --less")
    votes |= {paper: LESS for paper in less}
    return votes


def record_votes(
    connection: Connection,
    person: Subscriber,
    votes: Mapping[str, int],
    now: datetime,
    *,
    issue_id: int | None,
    via: str,
    ip: str | None = None,
    user_agent: str | None = None,
    keep: int = MAX_EXAMPLES,
) -> Recorded:
    """Store each vote as an example (the papers must be in the paper store), keep the newest
    ``keep`` examples and log the votes that changed, in the caller's transaction."""
    if any(vote not in (MORE, LESS) for vote in votes.values()):
        raise InputError("a vote is +1 (more like this) or -1 (less like this)")
    altered = store.put_examples(connection, person.id, dict(votes), now, keep)
    keep_newest(connection, person.id, keep)
    changed = tuple(paper for paper in votes if paper in altered)
    for paper in changed:
        store.record_event(
            connection,
            person.id,
            "feedback",
            now,
            ip=ip,
            user_agent=user_agent[:500] if user_agent else None,
            detail={"paper": paper, "d": votes[paper], "issue": issue_id, "via": via},
        )
    repeated = tuple(paper for paper in votes if paper not in changed)
    return Recorded(changed, repeated)


def keep_newest(connection: Connection, subscriber_id: int, keep: int) -> int:
    """Prune the subscriber's oldest examples, clicks and private seeds together, down to
    ``keep``; how many were pruned."""
    examples = store.examples_of(connection, subscriber_id)  # oldest first
    if len(examples) <= keep:
        return 0
    dropped = [e.paper_id for e in examples[: len(examples) - keep]]
    return store.remove_examples(connection, subscriber_id, dropped)


def forget_example(
    connection: Connection, person: Subscriber, paper_id: str, now: datetime
) -> bool:
    """Forget the subscriber's vote on one paper; False when there was none."""
    if not store.remove_examples(connection, person.id, [paper_id]):
        return False
    store.record_event(connection, person.id, "feedback-forget", now, detail={"paper": paper_id})
    return True


def reset_learning(connection: Connection, person: Subscriber, now: datetime) -> int:
    """Forget every example of the subscriber (their typed topics stay); how many there were."""
    removed = store.remove_examples(connection, person.id)
    store.record_event(connection, person.id, "feedback-reset", now, detail={"removed": removed})
    return removed
