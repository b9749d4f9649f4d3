"""The outbox table: notice mails (confirm, welcome, change of address, goodbye) written when the
change that causes them is saved, then handed to the relay with retries until it accepts them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from papercore.db.schema import outbox

STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class Queued:
    """One notice waiting in the outbox: its kind, recipient, links and facts."""

    id: int
    kind: str
    to: str
    links: dict[str, str]
    facts: dict[str, Any]
    attempts: int


def enqueue(
    connection: Connection,
    kind: str,
    to: str,
    links: Mapping[str, str],
    facts: Mapping[str, Any],
    now: datetime,
) -> int:
    """Queue one notice, due now, in the caller's transaction; its id."""
    payload = json.dumps({"links": dict(links), "facts": dict(facts)}, default=str)
    return int(
        connection.execute(
            insert(outbox)
            .values(
                kind=kind,
                to_address=to,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .returning(outbox.c.id)
        ).scalar_one()
    )


def due(connection: Connection, now: datetime, limit: int = 50) -> list[Queued]:
    """Pending notices whose next attempt is due, oldest first."""
    rows = connection.execute(
        select(outbox)
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.id)
        .limit(limit)
    ).mappings()
    found = []
    for row in rows:
        data = json.loads(row["payload"])
        found.append(
            Queued(
                row["id"],
                row["kind"],
                row["to_address"],
                data["links"],
                data["facts"],
                row["attempts"],
            )
        )
    return found


def claim(connection: Connection, item: Queued, now: datetime, hold: timedelta) -> bool:
    """Take ``item`` for one attempt (its next attempt moves ``hold`` ahead, so a second drainer
    or a crash mid-send does not double it before then); False when another drainer took it."""
    taken = connection.execute(
        update(outbox)
        .where(
            outbox.c.id == item.id,
            outbox.c.status == "pending",
            outbox.c.attempts == item.attempts,
        )
        .values(attempts=item.attempts + 1, next_attempt_at=now + hold)
    )
    return taken.rowcount == 1


def sent(connection: Connection, item_id: int, now: datetime) -> None:
    connection.execute(
        update(outbox)
        .where(outbox.c.id == item_id)
        .values(status="sent", sent_at=now, last_error=None)
    )


def failed(connection: Connection, item_id: int, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt: retried at ``retry_at``, or given up when it is None."""
    values: dict[str, Any] = {"last_error": error[:1000]}
    values |= {"next_attempt_at": retry_at} if retry_at else {"status": "failed"}
    connection.execute(update(outbox).where(outbox.c.id == item_id).values(**values))


def counts(connection: Connection) -> dict[str, int]:
    """Notices by status (every status present, 0 when none)."""
    rows = connection.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {s: 0 for s in STATUSES} | {status: int(n) for status, n in rows}


def problems(connection: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The newest notices that failed or are being retried, with their last error."""
    rows = connection.execute(
        select(
            outbox.c.kind,
            outbox.c.to_address,
            outbox.c.status,
            outbox.c.attempts,
            outbox.c.last_error,
            outbox.c.created_at,
        )
        .where(outbox.c.last_error.is_not(None), outbox.c.status != "sent")
        .order_by(outbox.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]
