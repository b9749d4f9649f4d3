"""Signup with double opt-in: a request makes (or refreshes) a pending subscriber; the confirmation
link activates them and records their consent. Callers get the same kind of answer whether or not
the address is known, so the web page cannot be used to find out who subscribes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from papercore.errors import NotFound
from subscribers import store, submissions
from subscribers.feedback import reset_learning
from subscribers.model import Frequency, Interest, Subscriber
from subscribers.paper_list import PaperList
from subscribers.seeding import PaperShelf, SeedLimits, seed_profile

NO_PAPERS = PaperList(())
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CONSENT_WORDING = (
    "Yes, email me the {app} digest of new research papers on {topics} ({schedule}) at {email}. "
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
    nonce: str | None = None  # the submission the confirmation link confirms
    returning: str | None = None  # why mail to the address had stopped (the mail says so)


@dataclass(frozen=True, slots=True)
class Confirmation:
    subscriber: Subscriber
    newly_active: bool  # False when the link was already used: no second welcome mail
    returning: str | None = None  # why mail had stopped before: the page says it resumes
    learned: int = 0  # papers they had marked before confirming again
    kept: bool = True  # whether the digest kept what those marks taught it

    def learning_text(self) -> str:
        """What confirming did with what an earlier subscription learned ("" if nothing)."""
        if not self.newly_active or not self.learned:
            return ""
        papers = "1 paper" if self.learned == 1 else f"{self.learned} papers"
        if self.kept:
            return (
                f"Your digest kept what it learned from the {papers} you marked “more” or "
                "“less” before; your preferences page lists them."
            )
        return f"Your digest starts fresh: it forgot the {papers} you had marked before."


@dataclass(frozen=True, slots=True)
class PendingLink:
    """What a confirmation link would confirm: the subscriber as their submission makes them."""

    person: Subscriber
    returning: str | None = None
    seeds: PaperList | None = None  # the papers the submission listed, liked on confirming


# What a returning person is told, by the reason mail to them had stopped.
RETURNING = {
    "bounce": "Mail to this address bounced earlier, so we stopped sending.",
    "bounced": "Mail to this address bounced earlier, so we stopped sending.",
    "complaint": "A message of ours was reported as spam from this address, so we stopped sending.",
    "unsubscribe": "You had unsubscribed.",
    "unsubscribed": "You had unsubscribed.",
    "forget": "This address asked us earlier to forget it.",
}


def returning_text(reason: str | None, *, confirmed: bool = False) -> str:
    """One or two sentences for a person whose mail had stopped (before or after they
    confirmed); "" for everyone else."""
    if reason is None:
        return ""
    why = RETURNING.get(reason, "Mail to this address had been stopped.")
    if confirmed:
        return f"{why} Your digest now resumes at this address."
    return f"{why} Confirming resumes your digest at this address."


def schedule_text(frequency: str, weekday: int, hour: int, timezone: str) -> str:
    when = "daily" if frequency == "daily" else f"weekly on {WEEKDAYS[weekday]}s"
    return f"{when} at {hour:02d}:00 {timezone}"


def consent_wording(app_name: str, person: Subscriber) -> str:
    """The sentence next to the confirm button, recorded word for word as what was agreed to:
    the topics, the schedule and the address."""
    schedule = schedule_text(person.frequency, person.weekday, person.hour, person.timezone)
    topics = "; ".join(person.topics) if person.topics else "the most talked-about papers"
    return CONSENT_WORDING.format(
        app=app_name, topics=topics, schedule=schedule, email=person.email
    )


def request_signup(
    connection: Connection,
    request: SignupRequest,
    now: datetime,
    *,
    ip: str | None,
    user_agent: str | None,
) -> SignupOutcome:
    """Record a signup as a submission of its own, confirmed only by the link mailed for it:
    another signup with the same address never changes what an earlier link confirms, and the
    subscriber's profile is only written when a link is confirmed (a brand-new address starts
    as a pending row holding its first submission). New, pending, unsubscribed, bounced and
    suppressed addresses get a confirmation link (a returning person opts in again; their old
    links are revoked; confirming lifts a suppression, since the click proves the address works
    and wants the mail). Active and paused subscribers keep what they have (``manage`` names
    them: the page mails them a link to their preferences), with similar writes done, so that
    the answers take about as long."""
    existing = store.find(connection, request.email)
    fields: dict[str, Any] = {
        "frequency": request.frequency,
        "weekday": request.weekday,
        "hour": request.hour,
        "timezone": request.timezone,
    }
    created = None
    if existing is None:
        created = store.add_if_new(
            connection,
            request.email,
            now,
            status="pending",
            topics=request.topics,
            allow_suppressed=True,
            **fields,
        )
        if created is None:  # a simultaneous signup created it: theirs is the row, ours a
            existing = store.get_by_email(connection, request.email)  # submission of its own
    if existing is not None and existing.status in ("active", "paused"):
        # the same writes as a new signup (interests, an event), their topics unchanged, so
        # that the response time does not tell who subscribes
        weights = {i.phrase: i.weight for i in existing.interests if i.kind == "topic"}
        store.set_interests(connection, existing.id, "topic", existing.topics, weights)
        _record_signup(connection, existing.id, now, ip, user_agent, already=existing.status)
        return SignupOutcome(None, 0, False, manage=existing)
    returning = store.suppression_reason(connection, request.email)
    if returning is None and existing is not None and existing.status != "pending":
        returning = existing.status
    if existing is None:
        assert created is not None
        subscriber_id = created
        version = 1
    else:
        subscriber_id = existing.id
        version = existing.token_version
        if existing.status != "pending":  # returning: old links die; the profile waits
            version += 1
            store.update_fields(
                connection,
                subscriber_id,
                now,
                status="pending",
                token_version=version,
                confirmed_at=None,
            )
    submission = submissions.record(
        connection,
        subscriber_id,
        now,
        topics=request.topics,
        seeds=request.papers,
        returning=returning,
        **fields,
    )
    _record_signup(connection, subscriber_id, now, ip, user_agent, topics=len(request.topics))
    return SignupOutcome(subscriber_id, version, True, nonce=submission.nonce, returning=returning)


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


def _as_submitted(person: Subscriber, submission: submissions.Submission | None) -> Subscriber:
    """The subscriber as confirming ``submission`` would make them (as they are without one:
    a link mailed before submissions were kept)."""
    if submission is None:
        return person
    others = tuple(i for i in person.interests if i.kind != "topic")
    weights = {i.phrase: i.weight for i in person.interests if i.kind == "topic"}
    topics = tuple(Interest("topic", t, weights.get(t, 1.0)) for t in submission.topics)
    return replace(
        person,
        frequency=submission.frequency,
        weekday=submission.weekday,
        hour=submission.hour,
        timezone=submission.timezone,
        interests=topics + others,
    )


def pending_link(
    connection: Connection, subscriber_id: int, token_version: int, nonce: str | None
) -> PendingLink | None:
    """What a confirmation link confirms; None when it is revoked, its submission is gone, or
    they have since unsubscribed or bounced."""
    person = _current(connection, subscriber_id, token_version)
    if person is None or person.status in ("unsubscribed", "bounced"):
        return None
    if nonce is None:
        return PendingLink(person)
    submission = submissions.find(connection, subscriber_id, nonce)
    if submission is None:
        return None
    if person.status != "pending":
        return PendingLink(person)
    return PendingLink(_as_submitted(person, submission), submission.returning, submission.seeds)


def confirm(
    connection: Connection,
    subscriber_id: int,
    token_version: int,
    now: datetime,
    *,
    nonce: str | None,
    app_name: str,
    shelf: PaperShelf | None,
    seed_limits: SeedLimits,
    ip: str | None,
    user_agent: str | None,
    keep_learned: bool = True,
) -> Confirmation | None:
    """Activate a pending subscriber with the submission their link was mailed for (topics,
    schedule, the papers they listed), lift any suppression of the address, and record their
    consent: time, IP, user agent and the sentence they clicked to agree to (consent_wording of
    that submission). Whether this click activates them is decided by one conditional UPDATE,
    so of simultaneous clicks exactly one gets ``newly_active``. None when the link has been
    revoked, its submission is gone, or they have since unsubscribed. A returning person's
    earlier "more/less" marks stay unless ``keep_learned`` is False (their choice on the
    confirm page); either way the Confirmation says which, for the page and the welcome mail."""
    found = pending_link(connection, subscriber_id, token_version, nonce)
    if found is None:
        return None
    person = found.person
    if person.status != "pending":
        return Confirmation(person, newly_active=False)
    fields = {
        "frequency": person.frequency,
        "weekday": person.weekday,
        "hour": person.hour,
        "timezone": person.timezone,
    }
    if not store.activate_pending(connection, person.id, token_version, now, **fields):
        return Confirmation(store.get(connection, person.id), newly_active=False)
    wording = consent_wording(app_name, person)
    learned = len(person.examples)
    if learned and not keep_learned:  # before the signup's own papers are liked below
        reset_learning(connection, person, now)
    if nonce is not None:
        submissions.use(connection, person.id, nonce, now)
        weights = {i.phrase: i.weight for i in person.interests if i.kind == "topic"}
        store.set_interests(connection, person.id, "topic", person.topics, weights)
        if found.seeds is not None and shelf is not None:
            seed_profile(
                connection, shelf, person, found.seeds, now, via="signup", limits=seed_limits
            )
    store.lift_suppression(connection, person.email)
    store.record_event(
        connection,
        person.id,
        "confirm",
        now,
        ip=ip,
        user_agent=_short(user_agent),
        detail={
            "via": "web",
            "topics": list(person.topics),
            "returning": found.returning,
            "learned": learned,
            "kept_learning": keep_learned or not learned,
        },
        consent_text=wording,
    )
    fresh = store.get(connection, person.id)
    return Confirmation(fresh, True, found.returning, learned, keep_learned or not learned)


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
    if not store.move_address(connection, person.id, new_email, now, person.token_version + 1):
        return None  # taken by a change confirmed at the same moment
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
