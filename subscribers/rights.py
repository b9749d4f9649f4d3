"""Data rights: forgetting a person (export lives in the CLI, from store.events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from subscribers import store


def forget(connection: Connection, email: str, now: datetime) -> bool:
    """Erase everything held about ``email`` (the subscriber row, and through it their interests,
    events, deliveries and delivery memory) and keep only the sha256 of the address on the
    suppression list, so it is never mailed or imported again. True if a subscriber existed;
    the address is suppressed either way."""
    person = store.find(connection, email)
    if person is not None:
        store.delete_subscriber(connection, person.id)
    store.suppress(connection, email, "forget", now)
    return person is not None
