"""Signup with double opt-in: a request makes (or refreshes) a pending subscriber; the confirmation
link activates them and records their consent. Callers get the same kind of answer whether or not
the address is known, so the web page cannot be used to find out who subscribes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from papercore.errors import NotFound
from subscribers import store
from subscribers.model import Frequency, Subscriber
from subscribers.paper_list import PaperList

NO_PAPERS = PaperList(())
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CONSENT_WORDING = (
    "Yes, email me the {app} digest of new research papers ({schedule}) at {email}. "
    "I can change my preferences or unsubscribe at any time with one click."
)


@dataclass(frozen=True, slots=True)
class SignupRequest:
    """What the signup form asked for, already validated (see digest.web.forms)."""

    email: str
    topics: tuple[str, ...]
    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    papers: PaperList = NO_PAPERS  # papers they like, to seed what the ranking learns


@dataclass(frozen=True, slots=True)
class SignupOutcome:
    """Whom to send a confirmation link to, if anyone."""

    subscriber_id: int | None
    token_version: int
    send_confirmation: bool
    manage: Subscriber | None = None  # already active or paused: mail them a link to manage it


@dataclass(frozen=True, slots=True)
class Confirmation:
    subscriber: Subscriber
    newly_active: bool  # False when the link was already used: no second welcome mail


def schedule_text(frequency: str, weekday: int, hour: int, timezone: str) -> str:
    when = "daily" if frequency == "daily" else f"weekly on {WEEKDAYS[weekday]}s"
    return f"{when} at {hour:02d}:00 {timezone}"


def consent_wording(app_name: str, person: Subscriber) -> str:
    """The sentence next to the confirm button, recorded word for word as what was agreed to."""
    schedule = schedule_text(person.frequency, person.weekday, person.hour, person.timezone)
    return CONSENT_WORDING.format(app=app_name, schedule=schedule, email=person.email)


def request_signup(
    connection: Connection,
    request: SignupRequest,
    now: datetime,
    *,
    ip: str | None,
    user_agent: str | None,
) -> SignupOutcome:
    """Record a signup. New, unsubscribed and bounced addresses become pending and get a
    confirmation link (a returning person opts in again; their old links are revoked). Pending
    ones get a fresh link. Active and paused subscribers keep what they have (``manage`` names
    them: the page mails them a link to their preferences), with the same writes done, so that
    both answers take as long; suppressed addresses are sent nothing."""
    nothing = SignupOutcome(None, 0, False)
    if store.is_suppressed(connection, request.email):
        return nothing
    existing = store.find(connection, request.email)
    if existing is not None and existing.status in ("active", "paused"):
        # the same writes as a new signup (interests, an event), their topics unchanged, so
        # that the response time does not tell who subscribes
        weights = {i.phrase: i.weight for i in existing.interests if i.kind == "topic"}
        store.set_interests(connection, existing.id, "topic", existing.topics, weights)
        _record_signup(connection, existing.id, now, ip, user_agent, already=existing.status)
        return SignupOutcome(None, 0, False, manage=existing)
    fields: dict[str, Any] = {
        "frequency": request.frequency,
        "weekday": request.weekday,
        "hour": request.hour,
        "timezone": request.timezone,
    }
    if existing is None:
        subscriber_id = store.add(connection, request.email, now, status="pending", **fields)
        version = 1
    else:
        subscriber_id = existing.id
        version = existing.token_version
        if existing.status != "pending":
            version += 1
            fields |= {"status": "pending", "token_version": version, "confirmed_at": None}
        store.update_fields(connection, subscriber_id, now, **fields)
    weights = {i.phrase: i.weight for i in existing.interests} if existing else {}
    store.set_interests(connection, subscriber_id, "topic", request.topics, weights)
    _record_signup(connection, subscriber_id, now, ip, user_agent, topics=len(request.topics))
    return SignupOutcome(subscriber_id, version, True)


def _record_signup(
    connection: Connection,
    subscriber_id: int,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    **detail: object,
) -> None:
    store.record_event(
        connection,
        subscriber_id,
        "signup",
        now,
        ip=ip,
        user_agent=_short(user_agent),
        detail={"via": "web", **detail},
    )


def confirm(
    connection: Connection,
    subscriber_id: int,
    token_version: int,
    now: datetime,
    *,
    wording: str,
    ip: str | None,
    user_agent: str | None,
) -> Confirmation | None:
    """Activate a pending subscriber from their confirmation page and record their consent: time,
    IP, user agent and ``wording``, the sentence they clicked to agree to (consent_wording).
    None when the link has been revoked or they have since unsubscribed."""
    person = _current(connection, subscriber_id, token_version)
    if person is None or person.status in ("unsubscribed", "bounced"):
        return None
    if person.status != "pending":
        return Confirmation(person, newly_active=False)
    store.update_fields(connection, person.id, now, status="active", confirmed_at=now)
    store.record_event(
        connection,
        person.id,
        "confirm",
        now,
        ip=ip,
        user_agent=_short(user_agent),
        detail={"via": "web"},
        consent_text=wording,
    )
    return Confirmation(store.get(connection, person.id), newly_active=True)


def confirm_address_change(
    connection: Connection,
    subscriber_id: int,
    token_version: int,
    new_email: str,
    now: datetime,
    *,
    ip: str | None,
    user_agent: str | None,
) -> Subscriber | None:
    """Move a subscriber to the address that clicked its confirmation link. Bumping the token
    version revokes every link mailed before. None if revoked or the address is now taken."""
    person = _current(connection, subscriber_id, token_version)
    if person is None or person.status in ("unsubscribed", "bounced"):
        return None
    if store.is_suppressed(connection, new_email):
        return None
    taken = store.find(connection, new_email)
    if taken is not None and taken.id != person.id:
        return None
    store.update_fields(
        connection, person.id, now, email=new_email, token_version=person.token_version + 1
    )
    store.record_event(
        connection,
        person.id,
        "address-change",
        now,
        ip=ip,
        user_agent=_short(user_agent),
        detail={"via": "web"},
        consent_text=f"confirmed the new address {new_email} by email link",
    )
    return store.get(connection, person.id)


def masked(email: str) -> str:
    """``email`` with all but the first letter of its local part hidden: ``n***@example.org``
    (enough for its owner to recognise it, not enough to hand it to anyone else)."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def current_subscriber(
    connection: Connection, subscriber_id: int, token_version: int
) -> Subscriber | None:
    """The subscriber a link names, unless they are gone or the link was revoked."""
    return _current(connection, subscriber_id, token_version)


def _current(connection: Connection, subscriber_id: int, token_version: int) -> Subscriber | None:
    try:
        person = store.get(connection, subscriber_id)
    except NotFound:
        return None
    return person if person.token_version == token_version else None


def _short(user_agent: str | None) -> str | None:
    return user_agent[:500] if user_agent else None
