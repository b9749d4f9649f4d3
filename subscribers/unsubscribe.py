"""Unsubscribing: at once, idempotent, from a signed link (RFC 8058 one-click or the page)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from subscribers import store
from subscribers.model import Subscriber


def unsubscribe(
    connection: Connection,
    person: Subscriber,
    now: datetime,
    *,
    via: str,
    ip: str | None,
    user_agent: str | None,
) -> bool:
    """Stop all mail to the subscriber. True if this changed their status (False when they were
    already unsubscribed, or another request unsubscribed them first: of simultaneous requests
    exactly one changes anything). Coming back needs a new double opt-in."""
    if not store.mark_unsubscribed(connection, person.id, now):  # decided in the database
        return False
    store.record_event(
        connection,
        person.id,
        "unsubscribe",
        now,
        ip=ip,
        user_agent=user_agent[:500] if user_agent else None,
        detail={"via": via, "previous_status": person.status},
    )
    return True
