"""The personal-digest builder: built once per issue, then one subscriber's picks and message."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from digest.compose import Composer, IssueInfo, OutgoingMessage, PreparedIssue
from digest.personal.pool import NewPapers, issue_papers
from digest.ranking import DatabaseEmbeddings, Pick, Ranker, build_ranker
from digest.ranking.semantic import Progress
from papercore.config import Settings
from papercore.papers import Paper
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from subscribers.tokens import Signer


def index_papers(
    engine: Engine, papers: Sequence[Paper], settings: Settings, on_embed: Progress | None = None
) -> Ranker:
    """The ranker over ``papers``, with embeddings read from the database cache (missing ones
    are computed, saved there and reported to ``on_embed``)."""
    return build_ranker(
        papers, settings.ranking, embeddings_cache=DatabaseEmbeddings(engine), on_embed=on_embed
    )


@dataclass(frozen=True)
class PersonalDigests:
    """One issue's digests: the candidate pool's ranker and rendered cards, shared by every
    subscriber, and the ``now`` that stamps links and orders trending papers."""

    settings: Settings
    issue: IssueInfo
    now: datetime
    ranker: Ranker
    prepared: PreparedIssue
    new_papers: NewPapers
    signer: Signer

    @classmethod
    def build(
        cls,
        engine: Engine,
        settings: Settings,
        issue: IssueInfo,
        now: datetime,
        *,
        composer: Composer | None = None,
        on_embed: Progress | None = None,
    ) -> PersonalDigests:
        """Read the issue's pool (``issue_papers``), index it and render its cards. Papers are
        read after ``now``, which becomes the subscribers' last_digest_at on send: a paper
        first seen in between may be sent now and is new again next time (the memory keeps
        it out)."""
        with engine.connect() as connection:
            papers, lookback_ids = issue_papers(connection, issue)
        ranker = index_papers(engine, papers, settings, on_embed)
        prepared = (composer or Composer(settings)).prepare(issue, papers)
        return cls(
            settings,
            issue,
            now,
            ranker,
            prepared,
            NewPapers.of(papers, lookback_ids),
            Signer(settings.web.secret_key.get_secret_value()),
        )

    @property
    def pool_size(self) -> int:
        """How many papers the issue's subscribers choose from."""
        return len(self.ranker.papers)

    def picks(
        self, subscriber: Subscriber, delivered: Collection[str], limit: int | None = None
    ) -> list[Pick]:
        """The subscriber's papers, best first with why: their interests ranked over the pool,
        minus ``delivered`` (the memory of what they got) and what is not new to them;
        ``limit`` defaults to ``ranking.picks``, the digest's length."""
        exclude = self.new_papers.old_to(subscriber.last_digest_at).union(delivered)
        return self.ranker.rank(
            subscriber.interests,
            exclude=exclude,
            limit=limit or self.settings.ranking.picks,
            now=self.now,
        )

    def message(self, subscriber: Subscriber, picks: Sequence[Pick]) -> OutgoingMessage:
        """The subscriber's complete message for these picks, with their signed links."""
        links = SubscriberLinks(
            self.settings.app.base_url,
            self.signer,
            subscriber.id,
            subscriber.token_version,
            self.issue.id,
            self.now,
        )
        return self.prepared.message(subscriber, picks, links)
