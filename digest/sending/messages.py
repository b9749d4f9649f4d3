"""What the send loop sends: one prepared message per subscriber, from a ``MessageFactory``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from digest.sending.ledger.layout import Layout
from subscribers.model import Subscriber


@dataclass(frozen=True, slots=True)
class Prepared:
    """A complete message for one subscriber, ready for the wire."""

    subscriber_id: int
    to: str
    message_id: str
    data: bytes
    paper_ids: tuple[str, ...]
    subject: str = ""
    html: str = ""
    # Papers first seen up to this moment were considered: it becomes last_digest_at once sent
    # (None: the moment the outcome is recorded).
    papers_as_of: datetime | None = None
    layout: Layout | None = None  # how the papers were shown (reasons, headings), for the ledger


class MessageFactory(Protocol):
    """Ranks and renders one subscriber's digest; None when nothing new matches them."""

    @property
    def sender(self) -> str: ...

    def compose(self, connection: Connection, subscriber: Subscriber) -> Prepared | None: ...

    def why_none(self, subscriber: Subscriber) -> str:
        """Why ``compose`` made no message for the subscriber (for the ledger's skipped row)."""
        ...
