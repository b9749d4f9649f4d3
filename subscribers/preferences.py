"""Changing a subscriber's preferences from their signed preferences link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from subscribers import store
from subscribers.model import Frequency, InterestKind, Subscriber


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    """The preferences form, validated (see digest.web.forms)."""

    topics: tuple[str, ...]
    authors: tuple[str, ...]
    mutes: tuple[str, ...]
    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    paused: bool
    new_email: str | None  # a different address to move to once it is confirmed


def apply_preferences(
    connection: Connection,
    person: Subscriber,
    change: PreferenceChange,
    now: datetime,
    *,
    ip: str | None,
    user_agent: str | None,
) -> Subscriber:
    """Save the change. Phrases kept from before keep their learned weights; pausing moves an
    active subscriber to paused and back. The address itself changes only once the new one is
    confirmed (see signup.confirm_address_change)."""
    status = person.status
    if status == "active" and change.paused:
        status = "paused"
    elif status == "paused" and not change.paused:
        status = "active"
    store.update_fields(
        connection,
        person.id,
        now,
        frequency=change.frequency,
        weekday=change.weekday,
        hour=change.hour,
        timezone=change.timezone,
        status=status,
    )
    kinds: tuple[tuple[InterestKind, tuple[str, ...]], ...] = (
        ("topic", change.topics),
        ("author", change.authors),
        ("mute", change.mutes),
    )
    for kind, phrases in kinds:
        weights = {i.phrase: i.weight for i in person.interests if i.kind == kind}
        store.set_interests(connection, person.id, kind, phrases, weights)
    store.record_event(
        connection,
        person.id,
        "preferences",
        now,
        ip=ip,
        user_agent=user_agent[:500] if user_agent else None,
        detail={"via": "web", "status": status, "address_change": change.new_email is not None},
    )
    return store.get(connection, person.id)


def address_change_allowed(connection: Connection, person: Subscriber, new_email: str) -> bool:
    """Whether to mail a confirmation link to ``new_email`` (not taken, not suppressed). The page
    says the same either way."""
    if new_email == person.email or store.is_suppressed(connection, new_email):
        return False
    return store.find(connection, new_email) is None
