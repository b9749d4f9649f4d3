"""Adding a subscriber on the operator's word (``digest subscribe``), not through web signup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from papercore.text import clean_text
from subscribers import store
from subscribers.model import (
    check_frequency,
    check_hour,
    clean_phrases,
    normalise_email,
)
from subscribers.zones import resolve_zone


@dataclass(frozen=True, slots=True)
class OperatorRequest:
    """What the operator typed: raw values, checked by ``add_subscriber``."""

    email: str
    topics: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    mutes: tuple[str, ...] = ()
    name: str = ""
    frequency: str = "daily"
    weekday: int = 0
    hour: int = 8
    timezone: str = "UTC"
    confirmed: bool = False  # the operator vouches for the person's consent


def add_subscriber(
    connection: Connection, request: OperatorRequest, now: datetime
) -> tuple[int, str]:
    """Check and add the subscriber; returns their id and normalised address. Confirmed ones are
    active at once with the operator's word recorded as their consent; others are pending until
    they opt in. Raises InputError for a bad value, an address already subscribed or one on the
    suppression list."""
    email = normalise_email(request.email)
    subscriber_id = store.add(
        connection,
        email,
        now,
        topics=clean_phrases(request.topics),
        authors=clean_phrases(request.authors, "author"),
        mutes=clean_phrases(request.mutes, "muted phrase"),
        name=clean_text(request.name)[:200],
        status="active" if request.confirmed else "pending",
        frequency=check_frequency(request.frequency),
        weekday=request.weekday,
        hour=check_hour(request.hour),
        timezone=resolve_zone(request.timezone),
    )
    store.record_event(
        connection,
        subscriber_id,
        "subscribe",
        now,
        detail={"via": "cli", "confirmed": request.confirmed},
        consent_text="added by the operator with --confirmed" if request.confirmed else None,
    )
    return subscriber_id, email
