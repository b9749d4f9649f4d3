"""Previews: the next digest for one subscriber (or for a set of topics) exactly as it would be
sent, without writing anything to the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from digest.compose.digest import Composer, IssueInfo
from digest.compose.mime import OutgoingMessage
from digest.paper_store import list_papers
from digest.ranking import build_ranker, delivered_ids
from papercore.config import Settings
from papercore.db.schema import issues
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Interest, Subscriber, clean_phrases
from subscribers.tokens import Signer

CANDIDATES = 2_000  # newest papers considered, as a send would
PREVIEW_ADDRESS = "preview@example.org"


@dataclass(frozen=True, slots=True)
class Preview:
    subscriber: Subscriber
    issue: IssueInfo
    message: OutgoingMessage
    shown: int  # picks ranked for the subscriber


def next_issue_number(connection: Connection) -> int:
    """The number the next issue will get (nothing is reserved)."""
    return int(connection.execute(select(func.max(issues.c.id))).scalar() or 0) + 1


def preview_subscriber(
    connection: Connection, email: str | None, topics: Sequence[str]
) -> Subscriber:
    """The stored subscriber with ``email``, else a stand-in with ``topics`` (no topics: the
    trending digest)."""
    if email:
        return store.get_by_email(connection, email)
    phrases = clean_phrases(list(topics))
    return Subscriber(
        id=0, email=PREVIEW_ADDRESS, interests=tuple(Interest("topic", p) for p in phrases)
    )


def render_preview(
    connection: Connection,
    settings: Settings,
    subscriber: Subscriber,
    now: datetime,
    composer: Composer | None = None,
) -> Preview:
    """The subscriber's next digest: ranked from the stored papers, minus what they already
    received, rendered and assembled as a send would."""
    papers = list_papers(connection, None, CANDIDATES)
    ranker = build_ranker(papers, settings.ranking)
    exclude = delivered_ids(connection, subscriber.id) if subscriber.id else set()
    picks = ranker.rank(
        subscriber.interests, exclude=exclude, limit=settings.ranking.picks, now=now
    )
    issue = IssueInfo(next_issue_number(connection), now.date(), subscriber.frequency)
    composer = composer or Composer(settings)
    prepared = composer.prepare(issue, [p.paper for p in picks])
    links = SubscriberLinks(
        settings.app.base_url,
        Signer(settings.web.secret_key.get_secret_value()),
        subscriber.id,
        subscriber.token_version,
        issue.id,
        now,
    )
    return Preview(subscriber, issue, prepared.message(subscriber, picks, links), len(picks))
