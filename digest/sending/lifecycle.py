"""An issue's lifecycle: open → sending → done, or paused (with why) until someone resumes it.

The only code that changes an issue's status (``digest.issues.set_status``) and, outside tests,
the only code that opens issues. Two kinds of run follow the same steps, begin → send → settle:

- a *run* (``digest send``, the in-process scheduler) begins by recovering and seeding its scope
  and marking the issue ``sending``; it settles the issue ``paused`` when it paused, ``done`` when
  the whole ledger has nothing left, else ``paused`` until retries fall due. A run over part of
  the ids (not ``whole``) puts back the status it found, unless it paused.
- a queued *batch* (``digest worker``) begins by recovering its scope and moving an ``open``
  issue to ``sending``; it settles ``paused`` when it paused, ``done`` when the whole ledger has
  nothing pending, deferred or in flight, and otherwise leaves the status to the other batches.

An issue opened only to file feed-only subscribers' digests (no mail) is ``done`` once filed
(``settle_filed``), unless a run or batch has taken it.

Reads and writes issues; reads and writes deliveries through ``ledger``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from digest.issues import Issue, get_issue, open_issue, set_status
from digest.sending import ledger
from digest.sending.scope import SendScope
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.errors import InputError

Requeue = Callable[[Connection, datetime], None]


@dataclass(frozen=True, slots=True)
class Began:
    """A scope made ready to send: the issue as it was found, the rows a dead run had left in
    flight (now unknown, or pending again), and the rows now waiting (None for a batch: not
    counted)."""

    issue: Issue
    interrupted: int
    waiting: int | None


def open_in(connection: Connection, issue_date: date, frequency: str, now: datetime) -> Issue:
    """The issue for (date, frequency), opened in the caller's transaction if it is new."""
    return open_issue(connection, issue_date, frequency, now)


def open_for(engine: Engine, issue_date: date, frequency: str, now: datetime) -> Issue:
    """The issue for (date, frequency), opened if it is new (its own transaction)."""
    with transaction(engine) as connection:
        return open_issue(connection, issue_date, frequency, now)


def open_to_send(
    engine: Engine, issue_date: date, frequency: str, now: datetime, *, resume: bool, whole: bool
) -> Issue:
    """The issue for (date, frequency), opened if new, that an operator's whole send may start.
    Raises InputError when it is interrupted (``sending``) or ``paused`` and neither ``resume``
    nor a partial send (not ``whole``) was asked for; the caller decides what a ``done`` issue
    means."""
    issue = open_for(engine, issue_date, frequency, now)
    if issue.status in ("sending", "paused") and not resume and whole:
        why = f": {issue.pause_reason}" if issue.pause_reason else ""
        state = "was interrupted" if issue.status == "sending" else f"is paused{why}"
        raise InputError(
            f"issue {issue.id} ({issue.date}, {frequency}) {state}. "
            "Continue it with `digest send --resume`"
        )
    return issue


def begin(engine: Engine, settings: Settings, scope: SendScope, now: datetime) -> Began:
    """Make the scope ready for a run: rows left ``sending`` become unknown (or pending again
    with ``sending.resend_unknown``), every subscriber of the issue's frequency in the scope gets
    a pending row, and the issue is ``sending``."""
    with transaction(engine) as connection:
        issue = get_issue(connection, scope.issue_id)
        interrupted = ledger.recover_interrupted(
            connection, scope, now, resend_unknown=settings.sending.resend_unknown
        )
        ledger.seed_pending(connection, scope, issue.frequency, now)
        set_status(connection, issue.id, "sending", now)
        found = ledger.counts_in(connection, scope)
    return Began(issue, interrupted, found["pending"] + found["deferred"])


def settle(
    engine: Engine, found: Issue, now: datetime, paused: str | None, *, whole: bool
) -> Issue:
    """The issue's status after a run: ``paused`` with the run's reason; for a run over part of
    the ids (not ``whole``) the status ``found`` before it began; else ``done`` when the whole
    ledger has nothing pending, deferred or in flight, or ``paused`` until retries fall due.
    Returns the issue as settled."""
    with transaction(engine) as connection:
        remaining = ledger.unfinished(ledger.counts(connection, found.id))
        if paused is not None:
            set_status(connection, found.id, "paused", now, paused)
        elif not whole:
            set_status(connection, found.id, found.status, now, found.pause_reason)
        elif remaining:
            set_status(
                connection,
                found.id,
                "paused",
                now,
                f"{remaining} messages wait for a retry: run `digest send --resume` later",
            )
        else:
            set_status(connection, found.id, "done", now)
        return get_issue(connection, found.id)


def begin_batch(engine: Engine, settings: Settings, scope: SendScope, now: datetime) -> Began:
    """Make a queued batch's scope ready: rows its dead run left ``sending`` become unknown (or
    pending again with ``sending.resend_unknown``); an ``open`` issue becomes ``sending``. The
    rows were seeded when the batch was queued."""
    with transaction(engine) as connection:
        issue = get_issue(connection, scope.issue_id)
        interrupted = ledger.recover_interrupted(
            connection, scope, now, resend_unknown=settings.sending.resend_unknown
        )
        if issue.status == "open":
            set_status(connection, issue.id, "sending", now)
    return Began(issue, interrupted, None)


def settle_batch(
    engine: Engine,
    scope: SendScope,
    now: datetime,
    paused: str | None,
    requeue: Requeue,
) -> Issue:
    """The issue's status after a batch: ``paused`` with the reason when it paused; otherwise
    ``requeue(connection, when)`` is called (in the same transaction) when deferred rows of the
    scope fall due later, and the issue is ``done`` once the whole ledger has nothing pending,
    deferred or in flight. Returns the issue as settled."""
    if paused is not None:
        return pause(engine, scope.issue_id, paused, now)
    with transaction(engine) as connection:
        upcoming = ledger.next_retry_at(connection, scope)
        if upcoming is not None:
            requeue(connection, upcoming)
        if ledger.unfinished(ledger.counts(connection, scope.issue_id)) == 0:
            set_status(connection, scope.issue_id, "done", now)
        return get_issue(connection, scope.issue_id)


def settle_filed(engine: Engine, issue_id: int, now: datetime) -> Issue:
    """The issue's status after rows were written without a send run (feed-only subscribers'
    digests filed, or "nothing new" skips): an issue
    still ``open`` is ``done`` once the whole ledger has nothing pending, deferred or in flight.
    An issue a send run or batches have begun (``sending``, ``paused``, ``done``) is theirs to
    settle and is left as it is. Returns the issue."""
    with transaction(engine) as connection:
        issue = get_issue(connection, issue_id)
        if issue.status == "open" and not ledger.unfinished(ledger.counts(connection, issue_id)):
            set_status(connection, issue_id, "done", now)
            issue = get_issue(connection, issue_id)
        return issue


def pause(engine: Engine, issue_id: int, reason: str, now: datetime) -> Issue:
    """Pause the issue with ``reason`` until an operator resumes it; returns it paused."""
    with transaction(engine) as connection:
        set_status(connection, issue_id, "paused", now, reason)
        return get_issue(connection, issue_id)
