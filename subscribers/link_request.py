"""A fresh link for an address that asks for one (the "send me a new link" form on a dead
link's page): what it gets depends on where the address stands, and the asker is told the same
whatever that is, so the form cannot be used to find out who subscribes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from papercore.errors import NotFound
from subscribers import store, submissions
from subscribers.model import Subscriber


@dataclass(frozen=True, slots=True)
class NewLink:
    """What to mail: ``manage`` for an active or paused subscriber (a link to their
    preferences); ``confirm`` (with the submission it confirms) for one still to confirm;
    neither for an address we do not mail (unknown, unsubscribed, bounced, suppressed)."""

    person: Subscriber | None = None
    manage: bool = False
    submission: submissions.Submission | None = None


def new_link_for(connection: Connection, email: str) -> NewLink:
    """The link an address asking for a new one should get (see NewLink)."""
    person = store.find(connection, email)
    if person is None or store.is_suppressed(connection, email):
        return NewLink()
    if person.status in ("active", "paused"):
        return NewLink(person, manage=True)
    if person.status == "pending":
        submission = submissions.newest_open(connection, person.id)
        if submission is not None:
            return NewLink(person, submission=submission)
    return NewLink()


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a subscriber stands now, for the page a stale link of theirs leads to."""

    status: str
    since: datetime | None  # when they unsubscribed or bounced, if the record says


STOPPED_BY = {"unsubscribed": ("unsubscribe",), "bounced": ("bounce",)}


def standing(connection: Connection, subscriber_id: int) -> Standing | None:
    """The subscriber's status and, once mail to them stopped, when it stopped; None when they
    are gone (forgotten)."""
    try:
        person = store.get(connection, subscriber_id)
    except NotFound:
        return None
    kinds = STOPPED_BY.get(person.status, ())
    since = None
    for event in store.events(connection, subscriber_id):
        if event["kind"] in kinds:
            since = event["at"]
    return Standing(person.status, since)
