"""The inline sender: hands due subscribers to the send runner in this process (the embedded
default, `[queue] backend = "inline"`). One transport is kept open for the service's lifetime.
A pass begins and sends each of the issue's id ranges (or its exact list of due subscribers),
then settles the issue once (``digest.sending.runner.run_issue``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from digest.issues import Issue
from digest.personal import IssueDigests
from digest.schedule.deliver import IdSpan
from digest.schedule.due import IssueKey
from digest.schedule.events import LOGGER, event
from digest.sending import ledger, lifecycle
from digest.sending.lifecycle import Began
from digest.sending.messages import MessageFactory
from digest.sending.results import RangeResult, RunControls, RunCounts
from digest.sending.runner import run_issue, send_here
from digest.sending.scope import SendScope
from digest.sending.service import sender
from digest.sending.transports import Transport
from papercore.config import Settings
from papercore.db.engine import transaction

log = logging.getLogger(LOGGER)
FactoryBuilder = Callable[[Engine, Settings, Issue, datetime, IssueDigests | None], MessageFactory]


def _real_factory(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    digests: IssueDigests | None,
) -> MessageFactory:
    from digest.sending.factory import build_factory

    return build_factory(engine, settings, issue, now, digests)


@dataclass
class InlineSender:
    """The deliver job's sender (``digest.schedule.deliver.DigestSender``) in this process."""

    engine: Engine
    settings: Settings
    transport: Transport
    build_factory: FactoryBuilder = _real_factory
    totals: RunCounts = field(default_factory=RunCounts)
    # `digest run`: ``sending.processes`` processes of their own relay connections (issue 17)
    spread: bool = False

    async def send(
        self,
        issue: IssueKey,
        ranges: Sequence[IdSpan],
        now: datetime,
        should_stop: Callable[[], bool],
        subscriber_ids: Sequence[int] | None = None,
        digests: IssueDigests | None = None,
    ) -> None:
        """Send the issue to exactly ``subscriber_ids`` when given, else to the id ranges, and
        settle it once as a whole run (the ledger decides between done and paused)."""
        opened = await asyncio.to_thread(
            lifecycle.open_for, self.engine, issue.issue_date, issue.frequency, now
        )
        # Several processes ("auto" and more than one core): each builds its own factory.
        spread = self.spread and self.settings.sending.processes != 1
        # Ranking index and rendered cards: built once per issue and pass.
        factory = None
        if not spread:
            factory = await asyncio.to_thread(
                self.build_factory, self.engine, self.settings, opened, now, digests
            )
        if subscriber_ids is not None:
            scopes = [SendScope(opened.id).narrowed(subscriber_ids)]
        else:
            scopes = [SendScope(opened.id, after, up_to) for after, up_to in ranges]
        if not scopes or should_stop():
            return
        controls = RunControls(should_stop=should_stop)
        in_processes = sender(self.engine, self.settings, now, None, None, None, should_stop)

        async def send(began: Issue, scope: SendScope) -> RangeResult:
            if spread:
                return await in_processes(began, scope)
            return await send_here(
                self.engine, self.settings, began, scope, now, controls, self.transport, factory
            )

        def done(scope: SendScope, began: Began, result: RangeResult) -> None:
            self.totals.add(result.counts)
            c = result.counts
            where: dict[str, Any] = (
                {"subscribers": len(scope.subscriber_ids)}
                if scope.subscriber_ids is not None
                else {
                    "after_id": scope.after_id,
                    "up_to_id": scope.up_to_id,
                    "waiting": began.waiting,
                }
            )
            event(
                log,
                "deliver.subscribers" if scope.subscriber_ids is not None else "deliver.range",
                issue=opened.id,
                **where,
                sent=c.sent,
                deferred=c.deferred,
                failed=c.failed,
                skipped=c.skipped,
                unknown=c.unknown,
                interrupted=began.interrupted,
                paused=result.paused or "",
            )

        await run_issue(
            self.engine,
            self.settings,
            scopes,
            now,
            send,
            whole=True,
            should_stop=should_stop,
            on_scope=done,
        )

    async def skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        """Record skipped rows (with why) for subscribers who get nothing from this issue."""
        await asyncio.to_thread(self._skip, issue, subscriber_ids, reason, now)

    def _skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        with transaction(self.engine) as connection:
            opened = lifecycle.open_in(connection, issue.issue_date, issue.frequency, now)
            rows = ledger.states(connection, opened.id, subscriber_ids)
            missing = [sid for sid in subscriber_ids if sid not in rows]
            ledger.add_pending(connection, opened.id, missing, now)
            waiting = missing + [sid for sid, row in rows.items() if row.status == "pending"]
            ledger.skip(connection, opened.id, [(sid, reason) for sid in waiting], now)

    async def close(self) -> None:
        """Close the transport."""
        await self.transport.close()
