"""The personal-digest builder: built once per issue, then one subscriber's picks and message.

A subscriber's examples ("more / less like this" clicks) reach the ranker with their papers:
the pool's own, else read from the paper store (``ExamplePapers``: once per paper per issue,
a page of subscribers at a time through ``prefetch_examples``, else on first need)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine

from digest.compose import Composer, IssueInfo, OutgoingMessage, PreparedIssue
from digest.compose.plan import DigestPlan
from digest.paper_store import get_papers
from digest.personal.pool import NewPapers, issue_papers, lookback_start, too_old_to_trend
from digest.ranking import DatabaseEmbeddings, Pick, RankedExample, Ranker, build_ranker
from digest.ranking.examples import ranked_examples
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


# Some papers were new to the subscriber, but none ranked for them (or they had them all).
NO_MATCH = "no new papers match this subscriber"


class ExamplePapers:
    """The papers of subscribers' examples: the pool's, and others read from the store once."""

    def __init__(self, engine: Engine, pool: Sequence[Paper]) -> None:
        self.engine = engine
        self._papers: dict[str, Paper] = {p.id: p for p in pool}
        self._absent: set[str] = set()  # ids the store does not hold (a forgotten paper)

    def read(self, connection: Connection, ids: Iterable[str]) -> None:
        """Read the papers among ``ids`` not known yet, in one batch."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._papers and i not in self._absent]
        if missing:
            found = get_papers(connection, missing)
            self._papers.update(found)
            self._absent.update(i for i in missing if i not in found)

    def of(self, subscriber: Subscriber) -> list[RankedExample]:
        """The subscriber's examples with their papers (read now if not prefetched)."""
        if not subscriber.examples:
            return []
        ids = [e.paper_id for e in subscriber.examples if e.seed is None]
        if any(i not in self._papers and i not in self._absent for i in ids):
            with self.engine.connect() as connection:
                self.read(connection, ids)
        return ranked_examples(subscriber.examples, self._papers)


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
    example_papers: ExamplePapers = field(compare=False)
    too_old_to_trend: frozenset[str] = frozenset()

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
            NewPapers.of(papers, lookback_ids, lookback_start(issue)),
            Signer.from_settings(settings.web),
            ExamplePapers(engine, papers),
            too_old_to_trend(papers, issue.date, settings.ranking.picks),
        )

    @property
    def pool_size(self) -> int:
        """How many papers the issue's subscribers choose from."""
        return len(self.ranker.papers)

    def prefetch_examples(self, connection: Connection, subscribers: Sequence[Subscriber]) -> None:
        """Read the example papers of a page of subscribers at once, for the ``picks`` to come."""
        self.example_papers.read(
            connection, (e.paper_id for s in subscribers for e in s.examples if e.seed is None)
        )
        self.ranker.prepare_examples(
            [e.paper for s in subscribers for e in self.example_papers.of(s)]
        )

    def picks(
        self, subscriber: Subscriber, delivered: Collection[str], limit: int | None = None
    ) -> list[Pick]:
        """The subscriber's papers, best first with why: their interests and examples ranked
        over the pool, minus ``delivered`` (the memory of what they got) and what is not new to
        them, minus papers whose card could not be rendered; ``limit`` defaults to
        ``ranking.picks``, the digest's length. Someone with nothing
        to match (no topics, authors or examples) gets the trending digest of recent papers."""
        exclude = self.new_papers.old_to(subscriber.last_digest_at).union(
            delivered, self.prepared.dropped
        )
        if not (subscriber.topics or subscriber.authors or subscriber.examples):
            exclude = exclude.union(self.too_old_to_trend)
        return self.ranker.rank(
            subscriber.interests,
            examples=self.example_papers.of(subscriber),
            exclude=exclude,
            limit=limit or self.settings.ranking.picks,
            now=self.now,
        )

    def why_no_picks(self, subscriber: Subscriber) -> str:
        """Why ``picks`` came back empty for the subscriber, in words true of them."""
        return self.new_papers.why_nothing_new(subscriber.last_digest_at) or NO_MATCH

    def plan(self, subscriber: Subscriber, picks: Sequence[Pick]) -> DigestPlan:
        """How the subscriber's digest of these picks is laid out (order, headings, reasons):
        what the mail shows and the ledger records for the web view, feed and JSON."""
        return self.prepared.plan(subscriber, picks)

    def message(self, subscriber: Subscriber, picks: Sequence[Pick]) -> OutgoingMessage:
        """The subscriber's complete message for these picks, with their signed links."""
        return self.render(subscriber, self.plan(subscriber, picks))

    def render(self, subscriber: Subscriber, laid_out: DigestPlan) -> OutgoingMessage:
        """The subscriber's complete message of a plan, with their signed links."""
        links = SubscriberLinks(
            self.settings.app.base_url,
            self.signer,
            subscriber.id,
            subscriber.token_version,
            self.issue.id,
            self.now,
        )
        return self.prepared.render(subscriber, laid_out, links)


class IssueDigests:
    """The ``PersonalDigests`` of one moment (a deliver pass), one per issue, built on first use,
    so that the mail sent and the feeds filed for the same issue in a pass share one."""

    def __init__(self, engine: Engine, settings: Settings, now: datetime) -> None:
        self.engine = engine
        self.settings = settings
        self.now = now
        self._built: dict[int, PersonalDigests] = {}

    def of(self, issue: IssueInfo) -> PersonalDigests:
        """The issue's digests at ``now``: built the first time, then the same ones."""
        found = self._built.get(issue.id)
        if found is None:
            found = PersonalDigests.build(self.engine, self.settings, issue, self.now)
            self._built[issue.id] = found
        return found
