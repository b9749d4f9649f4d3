"""Issues: one per (date, frequency), numbered by id. All SQL on the issues table is here; an
issue's status follows the send run under the rules of ``digest.sending.lifecycle``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from papercore.db.schema import issues
from papercore.errors import NotFound
from papercore.papers import utc

IssueStatus = Literal["open", "sending", "paused", "done"]
PUBLISHED = ("sending", "done")  # issues whose mail went out, shown in the archive


@dataclass(frozen=True, slots=True)
class Issue:
    id: int
    date: date
    frequency: str
    status: IssueStatus
    pause_reason: str | None
    created_at: datetime
    finished_at: datetime | None


def _issue(row: Row[Any]) -> Issue:
    return Issue(
        id=int(row.id),
        date=row.issue_date,
        frequency=row.frequency,
        status=row.status,
        pause_reason=row.pause_reason,
        created_at=utc(row.created_at),
        finished_at=utc(row.finished_at) if row.finished_at else None,
    )


def find_issue(connection: Connection, issue_date: date, frequency: str) -> Issue | None:
    """The issue for (date, frequency), or None when it was never opened."""
    row = connection.execute(
        select(issues).where(issues.c.issue_date == issue_date, issues.c.frequency == frequency)
    ).first()
    return None if row is None else _issue(row)


def open_issue(connection: Connection, issue_date: date, frequency: str, now: datetime) -> Issue:
    """The issue for (date, frequency), created if it does not exist yet (safe to repeat). Outside
    tests only ``digest.sending.lifecycle`` calls this."""
    found = find_issue(connection, issue_date, frequency)
    if found is not None:
        return found
    try:
        with connection.begin_nested():
            connection.execute(
                insert(issues).values(
                    issue_date=issue_date, frequency=frequency, status="open", created_at=now
                )
            )
    except IntegrityError:  # created concurrently by another run
        pass
    found = find_issue(connection, issue_date, frequency)
    assert found is not None
    return found


def get_issue(connection: Connection, issue_id: int) -> Issue:
    """Issue number ``issue_id``; NotFound when there is none."""
    row = connection.execute(select(issues).where(issues.c.id == issue_id)).first()
    if row is None:
        raise NotFound(f"no issue number {issue_id}")
    return _issue(row)


def latest_issue(connection: Connection) -> Issue | None:
    """The newest issue, or None before the first."""
    row = connection.execute(select(issues).order_by(issues.c.id.desc()).limit(1)).first()
    return None if row is None else _issue(row)


def set_status(
    connection: Connection,
    issue_id: int,
    status: IssueStatus,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Move an issue to ``status``; ``reason`` explains a pause, ``done`` stamps finished_at.
    Only ``digest.sending.lifecycle`` calls this: it owns the rules of an issue's status."""
    values: dict[str, Any] = {"status": status, "pause_reason": reason}
    if status == "done":
        values["finished_at"] = now
    connection.execute(update(issues).where(issues.c.id == issue_id).values(**values))


def next_issue_number(connection: Connection) -> int:
    """The number the next issue will get (nothing is reserved)."""
    return int(connection.execute(select(func.max(issues.c.id))).scalar() or 0) + 1


def published_issues(connection: Connection, limit: int = 200) -> list[Issue]:
    """The newest ``limit`` issues that went out (sending or done), newest first."""
    rows = connection.execute(
        select(issues)
        .where(issues.c.status.in_(PUBLISHED))
        .order_by(issues.c.id.desc())
        .limit(limit)
    )
    return [_issue(row) for row in rows]


def recent_issues(connection: Connection, limit: int) -> list[Issue]:
    """The newest ``limit`` issues, newest first."""
    rows = connection.execute(select(issues).order_by(issues.c.id.desc()).limit(limit))
    return [_issue(row) for row in rows]
