"""Data rights: what is held about a person (export) and forgetting them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from subscribers import store
from subscribers.model import Example, Subscriber


def profile(person: Subscriber) -> dict[str, Any]:
    """The subscriber's settings and interests as JSON-ready data (no dates, no events)."""
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "status": person.status,
        "frequency": person.frequency,
        "weekday": person.weekday,
        "hour": person.hour,
        "timezone": person.timezone,
        "topics": list(person.topics),
        "authors": list(person.authors),
        "mutes": list(person.mutes),
    }


def export(connection: Connection, email: str) -> dict[str, Any]:
    """Everything held about the subscriber at ``email`` (normalised) as JSON-ready data: their
    profile, when they signed up and confirmed, the papers they marked more / less like this,
    and every event with its consent text. Raises
    NotFound when no subscriber has that address."""
    person = store.get_by_email(connection, email)
    return profile(person) | {
        "created_at": _iso(person.created_at),
        "confirmed_at": _iso(person.confirmed_at),
        "examples": [_example(e) for e in person.examples],
        "events": [
            {k: _iso(v) if hasattr(v, "isoformat") else v for k, v in event.items()}
            for event in store.events(connection, person.id)
        ],
    }


def _example(example: Example) -> dict[str, Any]:
    """One example; a private seed with the text their list gave (held for them only)."""
    found: dict[str, Any] = {"paper": example.paper_id, "vote": example.vote}
    found["at"] = _iso(example.at)
    if example.seed is not None:
        found["seed"] = {
            "title": example.seed.title,
            "abstract": example.seed.abstract,
            "authors": list(example.seed.authors),
            "arxiv": example.seed.arxiv,
        }
    return found


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def forget(connection: Connection, email: str, now: datetime) -> bool:
    """Erase everything held about ``email`` (the subscriber row, and through it their interests,
    events, examples and private seeds, deliveries and delivery memory) and keep only the
    sha256 of the address on the suppression list, so it is never mailed or imported again.
    True if a subscriber existed; the address is suppressed either way."""
    person = store.find(connection, email)
    if person is not None:
        store.remove_examples(connection, person.id)  # also by cascade; said here for clarity
        store.delete_subscriber(connection, person.id)
    store.suppress(connection, email, "forget", now)
    return person is not None
