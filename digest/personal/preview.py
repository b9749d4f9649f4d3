"""Previews: a subscriber's next digest (or a set of topics') built exactly as its send will
build it, writing nothing to the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from digest.compose import Composer, IssueInfo, OutgoingMessage
from digest.compose.plan import DigestPlan
from digest.issues import find_issue, next_issue_number
from digest.memory import delivered_ids
from digest.personal.builder import PersonalDigests
from digest.ranking import Pick
from digest.ranking.semantic import Progress
from papercore.config import Settings
from subscribers import store
from subscribers.model import Interest, Subscriber, clean_phrases

PREVIEW_ADDRESS = "preview@example.org"


@dataclass(frozen=True, slots=True)
class Preview:
    """A subscriber's next digest: the issue's digests it came from, its picks and message."""

    subscriber: Subscriber
    digests: PersonalDigests
    picks: tuple[Pick, ...]
    plan: DigestPlan  # the picks laid out as the mail shows them
    message: OutgoingMessage

    @property
    def issue(self) -> IssueInfo:
        """The issue the digest belongs to (perhaps not created yet)."""
        return self.digests.issue

    @property
    def shown(self) -> int:
        """How many papers were picked for the subscriber."""
        return len(self.picks)


def preview_subscriber(
    connection: Connection, email: str | None, topics: Sequence[str]
) -> Subscriber:
    """The stored subscriber with ``email``, else a stand-in who never had a digest, with
    ``topics`` (no topics: the trending digest)."""
    if email:
        return store.get_by_email(connection, email)
    phrases = clean_phrases(list(topics))
    return Subscriber(
        id=0, email=PREVIEW_ADDRESS, interests=tuple(Interest("topic", p) for p in phrases)
    )


def next_issue(connection: Connection, frequency: str, day: date) -> IssueInfo:
    """The issue of (``day``, ``frequency``): the stored one if it exists, else the one a send
    would create next, numbered after the last (nothing is reserved)."""
    found = find_issue(connection, day, frequency)
    if found is not None:
        return IssueInfo(found.id, found.date, found.frequency)
    return IssueInfo(next_issue_number(connection), day, frequency)


def preview_digest(
    engine: Engine,
    settings: Settings,
    subscriber: Subscriber,
    now: datetime,
    *,
    day: date | None = None,
    composer: Composer | None = None,
    on_embed: Progress | None = None,
) -> Preview:
    """The subscriber's next digest (issue of ``day``, default today in UTC, at their
    frequency) as a send of that issue at ``now`` would build it: same pool, ranker, memory
    and new-paper rule. ``picks`` may be empty (a send would then skip them)."""
    with engine.connect() as connection:
        issue = next_issue(
            connection, subscriber.issue_frequency, day or now.astimezone(UTC).date()
        )
        delivered = delivered_ids(connection, subscriber.id) if subscriber.id else set()
    digests = PersonalDigests.build(
        engine, settings, issue, now, composer=composer, on_embed=on_embed
    )
    picks = digests.picks(subscriber, delivered)
    laid_out = digests.plan(subscriber, picks)
    return Preview(
        subscriber, digests, tuple(picks), laid_out, digests.render(subscriber, laid_out)
    )
