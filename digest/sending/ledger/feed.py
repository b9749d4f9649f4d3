"""The ledger as a subscriber's feed sees it: the issues they were shown (by mail or, for a
"feed only" subscriber, filed without mail), each with its papers in the order shown and their
``Layout`` (reasons, headings), and the write that files a feed-only subscriber's digest plan.
Reads deliveries and issues (the date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, insert, select

from digest.compose.plan import DigestPlan
from digest.sending.ledger.layout import Layout
from digest.sending.ledger.rows import SHOWN
from papercore.db.schema import deliveries, issues
from papercore.papers import utc


@dataclass(frozen=True, slots=True)
class ShownIssue:
    """One issue as one subscriber saw it: papers in the order shown, and how (``layout``)."""

    issue_id: int
    issue_date: date
    frequency: str
    paper_ids: tuple[str, ...]
    layout: Layout  # reasons and headings, parallel to paper_ids
    at: datetime  # when it was sent or filed


def _shown(row: Row[Any]) -> ShownIssue:
    return ShownIssue(
        int(row.issue_id),
        row.issue_date,
        str(row.frequency),
        tuple(row.paper_ids or ()),
        Layout.from_json(row.why),
        utc(row.sent_at or row.updated_at),
    )


def _query(subscriber_id: int) -> Select[Any]:
    return (
        select(
            deliveries.c.issue_id,
            deliveries.c.paper_ids,
            deliveries.c.why,
            deliveries.c.sent_at,
            deliveries.c.updated_at,
            issues.c.issue_date,
            issues.c.frequency,
        )
        .join(issues, issues.c.id == deliveries.c.issue_id)
        .where(deliveries.c.subscriber_id == subscriber_id, deliveries.c.status.in_(SHOWN))
    )


def shown_issues(connection: Connection, subscriber_id: int, limit: int) -> list[ShownIssue]:
    """The newest ``limit`` issues the subscriber was shown, newest first (no empty ones)."""
    rows = connection.execute(
        _query(subscriber_id).order_by(deliveries.c.issue_id.desc()).limit(limit)
    )
    return [found for found in map(_shown, rows) if found.paper_ids]


def shown_issue(connection: Connection, issue_id: int, subscriber_id: int) -> ShownIssue | None:
    """One issue as the subscriber was shown it; None if it never reached them."""
    row = connection.execute(_query(subscriber_id).where(deliveries.c.issue_id == issue_id)).first()
    return _shown(row) if row is not None else None


def file_for_feed(
    connection: Connection,
    issue_id: int,
    subscriber_id: int,
    plan: DigestPlan | None,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Record a "feed only" subscriber's digest ``plan`` for the issue (its papers in order,
    their reasons and headings), as ``filed``, or ``skipped`` (with ``reason``) when it is empty
    or None; False (nothing written) if the issue already has their row, so a repeated pass
    files nothing twice."""
    exists = connection.execute(
        select(deliveries.c.id).where(
            deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id == subscriber_id
        )
    ).first()
    if exists is not None:
        return False
    picks = plan.cards if plan is not None else ()
    connection.execute(
        insert(deliveries).values(
            issue_id=issue_id,
            subscriber_id=subscriber_id,
            status="filed" if picks else "skipped",
            attempts=0,
            last_reply="filed for the feed (feed only: no mail)"
            if picks
            else reason or "no new papers match this subscriber",
            paper_ids=[card.paper.id for card in picks],
            why=Layout.of(plan).as_json() if plan is not None and picks else None,
            created_at=now,
            updated_at=now,
            sent_at=now if picks else None,
        )
    )
    return True
