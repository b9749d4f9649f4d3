"""The delivery ledger's row types and how a ``SendScope`` becomes a condition on the deliveries
table. Each (issue, subscriber) row moves pending → sending → sent | deferred | failed | skipped,
or to unknown when the outcome of a transmission cannot be known; a sent (or unknown) one may
later become bounced or complained when the bounce or the complaint comes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import and_, true

from digest.sending.ledger.layout import Layout
from digest.sending.scope import SendScope
from papercore.db.schema import deliveries

DeliveryStatus = Literal[
    "pending",
    "sending",
    "sent",
    "deferred",
    "failed",
    "skipped",
    "unknown",
    "bounced",  # accepted, then bounced back later (digest/inbound)
    "complained",  # delivered, then reported as spam (digest/inbound)
    "filed",  # a "feed only" subscriber's picks, recorded for their feed; no mail
]
STATUSES: tuple[DeliveryStatus, ...] = get_args(DeliveryStatus)
# Finished for an issue: the subscriber is not handed over again (pending/deferred/sending are).
FINISHED: tuple[DeliveryStatus, ...] = (
    "sent",
    "failed",
    "skipped",
    "unknown",
    "bounced",
    "complained",
    "filed",
)
# What a subscriber was shown, in mail or in their feed: the issues their feed lists.
SHOWN: tuple[DeliveryStatus, ...] = ("sent", "unknown", "bounced", "complained", "filed")
INTERRUPTED = "interrupted: the run stopped while this message was in flight; it may have arrived"
# Explicit subscriber lists are matched in chunks: one IN list stays well under SQLite's limit.
ID_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class LedgerRow:
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    """A message about to leave."""

    subscriber_id: int
    message_id: str
    paper_ids: tuple[str, ...]
    size_bytes: int
    layout: Layout | None = None  # how the papers were shown: reasons and headings


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one transmission attempt."""

    subscriber_id: int
    status: DeliveryStatus
    reply: str
    attempted: bool = True
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    issue_id: int
    subscriber_id: int
    email: str
    status: DeliveryStatus
    attempts: int
    last_reply: str | None
    message_id: str | None
    papers: int
    size_bytes: int | None
    next_attempt_at: datetime | None
    updated_at: datetime
    sent_at: datetime | None


def id_chunks(scope: SendScope) -> list[Sequence[int] | None]:
    """``[None]`` (no list) or the scope's subscriber ids cut into IN-list sized chunks."""
    ids = scope.subscriber_ids
    if ids is None:
        return [None]
    return [ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]


def in_scope(scope: SendScope, chunk: Sequence[int] | None) -> Any:
    """The deliveries of the scope's issue and id range, among ``chunk`` when given."""
    condition = and_(
        deliveries.c.issue_id == scope.issue_id, deliveries.c.subscriber_id > scope.after_id
    )
    if scope.up_to_id is not None:
        condition = and_(condition, deliveries.c.subscriber_id <= scope.up_to_id)
    return and_(condition, true() if chunk is None else deliveries.c.subscriber_id.in_(chunk))
