"""The inline sender: hands due subscribers to the send service in this process (the embedded
default, `[queue] backend = "inline"`). One transport is kept open for the service's lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest.issues import Issue, open_issue
from digest.schedule.deliver import IdRange
from digest.schedule.due import IssueKey
from digest.schedule.events import LOGGER, event
from digest.sending import ledger
from digest.sending.messages import MessageFactory
from digest.sending.run import RunCounts, send_range
from digest.sending.service import begin, send_issue_async, settle
from digest.sending.transports import Transport
from papercore.config import Settings
from papercore.db.engine import transaction

log = logging.getLogger(LOGGER)
FactoryBuilder = Callable[[Engine, Settings, Issue, datetime], MessageFactory]


def _real_factory(
    engine: Engine, settings: Settings, issue: Issue, now: datetime
) -> MessageFactory:
    from digest.sending.factory import build_factory

    return build_factory(engine, settings, issue, now)


@dataclass
class InlineSender:
    engine: Engine
    settings: Settings
    transport: Transport
    build_factory: FactoryBuilder = _real_factory
    totals: RunCounts = field(default_factory=RunCounts)

    def _open(self, issue: IssueKey, now: datetime) -> Issue:
        with transaction(self.engine) as connection:
            return open_issue(connection, issue.issue_date, issue.frequency, now)

    async def send(
        self,
        issue: IssueKey,
        ranges: Sequence[IdRange],
        now: datetime,
        should_stop: Callable[[], bool],
        subscriber_ids: Sequence[int] | None = None,
    ) -> None:
        opened = await asyncio.to_thread(self._open, issue, now)
        # Ranking index and rendered cards: built once per issue and pass.
        factory = await asyncio.to_thread(
            self.build_factory, self.engine, self.settings, opened, now
        )
        if subscriber_ids is not None:
            await self._send_to(opened, subscriber_ids, factory, now, should_stop)
            return
        for span in ranges:
            if should_stop():
                return
            interrupted, waiting = await asyncio.to_thread(
                begin, self.engine, self.settings, opened, now, span.after_id, span.up_to_id
            )
            result = await send_range(
                self.engine,
                self.settings,
                opened,
                self.transport,
                factory,
                now,
                after_id=span.after_id,
                up_to_id=span.up_to_id,
                should_stop=should_stop,
            )
            await asyncio.to_thread(settle, self.engine, opened, now, result.paused)
            self.totals.add(result.counts)
            c = result.counts
            event(
                log,
                "deliver.range",
                issue=opened.id,
                after_id=span.after_id,
                up_to_id=span.up_to_id,
                waiting=waiting,
                sent=c.sent,
                deferred=c.deferred,
                failed=c.failed,
                skipped=c.skipped,
                unknown=c.unknown,
                interrupted=interrupted,
                paused=result.paused or "",
            )

    async def _send_to(
        self,
        opened: Issue,
        subscriber_ids: Sequence[int],
        factory: MessageFactory,
        now: datetime,
        should_stop: Callable[[], bool],
    ) -> None:
        if should_stop():
            return
        report = await send_issue_async(
            self.engine,
            self.settings,
            opened,
            now,
            transport=self.transport,
            factory=factory,
            subscriber_ids=subscriber_ids,
            should_stop=should_stop,
        )
        self.totals.add(report.counts)
        c = report.counts
        event(
            log,
            "deliver.subscribers",
            issue=opened.id,
            subscribers=len(subscriber_ids),
            sent=c.sent,
            deferred=c.deferred,
            failed=c.failed,
            skipped=c.skipped,
            unknown=c.unknown,
            interrupted=report.interrupted,
            paused=report.paused or "",
        )

    async def skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        await asyncio.to_thread(self._skip, issue, subscriber_ids, reason, now)

    def _skip(
        self, issue: IssueKey, subscriber_ids: Sequence[int], reason: str, now: datetime
    ) -> None:
        with transaction(self.engine) as connection:
            opened = open_issue(connection, issue.issue_date, issue.frequency, now)
            rows = ledger.states(connection, opened.id, subscriber_ids)
            missing = [sid for sid in subscriber_ids if sid not in rows]
            ledger.add_pending(connection, opened.id, missing, now)
            waiting = missing + [sid for sid, row in rows.items() if row.status == "pending"]
            ledger.skip(connection, opened.id, [(sid, reason) for sid in waiting], now)

    async def close(self) -> None:
        await self.transport.close()
