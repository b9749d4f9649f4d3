"""The real message factory: the issue's ranker and rendered cards, built once, then one ranked,
personalised and (optionally) DKIM-signed message per subscriber."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from digest.compose import Composer, IssueInfo, PreparedIssue
from digest.issues import Issue
from digest.paper_store import list_papers
from digest.ranking import (
    DatabaseEmbeddings,
    Ranker,
    build_ranker,
    delivered_ids,
    delivered_many,
)
from digest.sending.dkim import DkimSigner
from digest.sending.messages import Prepared
from papercore.config import Settings
from papercore.db.schema import subscribers
from papercore.papers import Paper, utc
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from subscribers.tokens import Signer

LOOKBACK_DAYS = {"daily": 7, "weekly": 14}


def candidate_papers(connection: Connection, issue: Issue) -> list[Paper]:
    """The papers a first digest chooses from: those seen, posted or published in its lookback."""
    return list_papers(connection, _lookback_start(issue))


def _lookback_start(issue: Issue) -> date:
    return issue.date - timedelta(days=LOOKBACK_DAYS.get(issue.frequency, 7))


def issue_papers(connection: Connection, issue: Issue) -> tuple[list[Paper], set[str]]:
    """Every paper some subscriber of the issue may get, and the ids of the lookback's.

    A subscriber who had a digest gets the papers first seen since it, however long ago that
    was (nothing is lost to a long downtime); a first digest chooses from the lookback."""
    lookback = candidate_papers(connection, issue)
    earliest = connection.execute(
        select(func.min(subscribers.c.last_digest_at)).where(
            subscribers.c.frequency == issue.frequency, subscribers.c.status == "active"
        )
    ).scalar_one_or_none()
    pool = lookback
    if earliest is not None and utc(earliest).date() < _lookback_start(issue):
        pool = list_papers(connection, utc(earliest).date())
    return pool, {p.id for p in lookback}


@dataclass(frozen=True)
class NewPapers:
    """Which of the issue's papers are not new to a subscriber: first seen at or before their
    last digest, or outside the lookback for a first digest."""

    seen: tuple[datetime, ...]  # first_seen of the pool's dated papers, ascending
    ids: tuple[str, ...]  # their ids, in the same order
    undated: frozenset[str]  # never new after a first digest
    outside_lookback: frozenset[str]
    _prefixes: dict[int, frozenset[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, papers: Sequence[Paper], lookback_ids: set[str]) -> NewPapers:
        dated = sorted((p.first_seen, p.id) for p in papers if p.first_seen is not None)
        return cls(
            tuple(at for at, _ in dated),
            tuple(pid for _, pid in dated),
            frozenset(p.id for p in papers if p.first_seen is None),
            frozenset(p.id for p in papers if p.id not in lookback_ids),
        )

    def old_to(self, last_digest_at: datetime | None) -> frozenset[str]:
        if last_digest_at is None:
            return self.outside_lookback
        cut = bisect_right(self.seen, last_digest_at)
        found = self._prefixes.get(cut)
        if found is None:
            found = self._prefixes[cut] = self.undated | frozenset(self.ids[:cut])
        return found


@dataclass
class DigestFactory:
    settings: Settings
    issue: Issue
    now: datetime
    ranker: Ranker
    prepared: PreparedIssue
    signer: Signer
    dkim: DkimSigner | None
    new_papers: NewPapers | None = None  # None: every paper of the ranker is new to everyone
    _delivered: dict[int, set[str]] = field(default_factory=dict, repr=False)

    @property
    def sender(self) -> str:
        return self.settings.sender.from_address

    def prefetch(self, connection: Connection, subscriber_ids: Sequence[int]) -> None:
        """Read the memory of a page of subscribers at once, for the ``compose`` calls to come."""
        self._delivered = delivered_many(connection, subscriber_ids)

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None:
        known = self._delivered.pop(subscriber.id, None)
        exclude: set[str] | frozenset[str] = (
            known if known is not None else delivered_ids(connection, subscriber.id)
        )
        if self.new_papers is not None:
            exclude = exclude | self.new_papers.old_to(subscriber.last_digest_at)
        picks = self.ranker.rank(
            subscriber.interests,
            exclude=exclude,
            limit=self.settings.ranking.picks,
            now=self.now,
        )
        if not picks:
            return None
        links = SubscriberLinks(
            self.settings.app.base_url,
            self.signer,
            subscriber.id,
            subscriber.token_version,
            self.issue.id,
            self.now,
        )
        message = self.prepared.message(subscriber, picks, links)
        data = self.dkim.sign(message.data) if self.dkim is not None else message.data
        return Prepared(
            subscriber.id,
            message.to,
            message.message_id,
            data,
            tuple(p.paper.id for p in picks),
            message.subject,
            message.html,
            self.now,
        )


def build_factory(engine: Engine, settings: Settings, issue: Issue, now: datetime) -> DigestFactory:
    """Index the issue's candidate papers and render their cards, once per issue (and process).
    Papers are read after ``now``, which becomes the subscribers' last_digest_at: a paper first
    seen in between may be sent now and is new again next time (the memory keeps it out)."""
    with engine.connect() as connection:
        papers, lookback_ids = issue_papers(connection, issue)
    ranker = build_ranker(papers, settings.ranking, embeddings_cache=DatabaseEmbeddings(engine))
    prepared = Composer(settings).prepare(IssueInfo(issue.id, issue.date, issue.frequency), papers)
    return DigestFactory(
        settings,
        issue,
        now,
        ranker,
        prepared,
        Signer(settings.web.secret_key.get_secret_value()),
        DkimSigner.from_settings(settings.dkim),
        NewPapers.of(papers, lookback_ids),
    )
