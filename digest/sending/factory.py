"""The real message factory: the issue's ranker and rendered cards, built once, then one ranked,
personalised and (optionally) DKIM-signed message per subscriber."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine

from digest.compose import Composer, IssueInfo, PreparedIssue
from digest.config import Settings
from digest.issues import Issue
from digest.paper_store import list_papers
from digest.papers import Paper
from digest.ranking import DatabaseEmbeddings, Ranker, build_ranker, delivered_ids
from digest.sending.dkim import DkimSigner
from digest.sending.messages import Prepared
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from subscribers.tokens import Signer

LOOKBACK_DAYS = {"daily": 7, "weekly": 14}


def candidate_papers(connection: Connection, issue: Issue) -> list[Paper]:
    """The papers an issue chooses from: those seen, posted or published in its lookback."""
    since: date = issue.date - timedelta(days=LOOKBACK_DAYS.get(issue.frequency, 7))
    return list_papers(connection, since)


@dataclass
class DigestFactory:
    settings: Settings
    issue: Issue
    now: datetime
    ranker: Ranker
    prepared: PreparedIssue
    signer: Signer
    dkim: DkimSigner | None

    @property
    def sender(self) -> str:
        return self.settings.sender.from_address

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None:
        picks = self.ranker.rank(
            subscriber.interests,
            exclude=delivered_ids(connection, subscriber.id),
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
        )


def build_factory(engine: Engine, settings: Settings, issue: Issue, now: datetime) -> DigestFactory:
    """Index the issue's candidate papers and render their cards, once per issue (and process)."""
    with engine.connect() as connection:
        papers = candidate_papers(connection, issue)
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
    )
