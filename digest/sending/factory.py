"""The real message factory: an adapter over the issue's ``PersonalDigests`` that reads each
page's memory at once, DKIM-signs the messages and records what each one holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine

from digest.compose import IssueInfo
from digest.issues import Issue
from digest.memory import delivered_ids, delivered_many
from digest.personal import IssueDigests, PersonalDigests
from digest.sending.dkim import DkimSigner
from digest.sending.ledger.layout import Layout
from digest.sending.messages import Prepared
from papercore.config import Settings
from subscribers.model import Subscriber


@dataclass
class DigestFactory:
    """One ranked, personalised and (optionally) DKIM-signed message per subscriber."""

    digests: PersonalDigests
    dkim: DkimSigner | None
    _delivered: dict[int, set[str]] = field(default_factory=dict, repr=False)

    @property
    def sender(self) -> str:
        """The From address of every message."""
        return self.digests.settings.sender.from_address

    def prefetch(self, connection: Connection, subscribers: Sequence[Subscriber]) -> None:
        """Read a page of subscribers' memory and example papers at once, for the ``compose``
        calls to come."""
        self._delivered = delivered_many(connection, [s.id for s in subscribers])
        self.digests.prefetch_examples(connection, subscribers)

    def why_none(self, subscriber: Subscriber) -> str:
        """Why ``compose`` made no message: nothing new to them (``NewPapers``), or no match."""
        return self.digests.why_no_picks(subscriber)

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None:
        """The subscriber's digest ready for the wire; None when nothing new matches them."""
        known = self._delivered.pop(subscriber.id, None)
        delivered = known if known is not None else delivered_ids(connection, subscriber.id)
        picks = self.digests.picks(subscriber, delivered)
        if not picks:
            return None
        laid_out = self.digests.plan(subscriber, picks)
        message = self.digests.render(subscriber, laid_out)
        data = self.dkim.sign(message.data) if self.dkim is not None else message.data
        return Prepared(
            subscriber.id,
            message.to,
            message.message_id,
            data,
            laid_out.paper_ids,
            message.subject,
            message.html,
            self.digests.now,
            Layout.of(laid_out),
        )


def build_factory(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    digests: IssueDigests | None = None,
) -> DigestFactory:
    """The factory for one issue sent at ``now``: its ``PersonalDigests``, built once per issue
    (and process; taken from ``digests`` when given, whose ``now`` it must be), and the DKIM
    signer the settings ask for."""
    info = IssueInfo(issue.id, issue.date, issue.frequency)
    if digests is not None:
        personal = digests.of(info)
    else:
        personal = PersonalDigests.build(engine, settings, info, now)
    return DigestFactory(personal, DkimSigner.from_settings(settings.dkim))
