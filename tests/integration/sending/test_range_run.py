"""The range send loop's hooks for queue workers: injected pacing, no waiting for retries, and
claims that two runners of one range can never both win."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest.sending import ledger
from digest.sending.lifecycle import begin
from digest.sending.results import RunControls
from digest.sending.run import send_range
from digest.sending.scope import SendScope
from digest.sending.transports import Reply
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from tests.integration.sending.support import (
    SimpleFactory,
    add_subscribers,
    an_issue,
    ledger_rows,
)


@dataclass
class CountingPacing:
    """A ``Pacing`` that lets everything through and counts what asked."""

    acquired: int = 0
    slots: list[str] = field(default_factory=list)

    async def acquire(self) -> None:
        self.acquired += 1

    @asynccontextmanager
    async def slot(self, recipient: str) -> AsyncIterator[None]:
        self.slots.append(recipient)
        yield


def test_the_injected_pacing_paces_every_message(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    add_subscribers(engine, now, [f"p{i}@example.org" for i in range(12)])
    issue = an_issue(engine, now)
    begin(engine, settings, SendScope(issue.id), now)
    pacing = CountingPacing()
    result = asyncio.run(
        send_range(
            engine,
            settings,
            issue,
            SendScope(issue.id),
            RecordingTransport(),
            SimpleFactory(issue.id, now),
            now,
            RunControls(pacing=pacing),
        )
    )
    assert result.counts.sent == 12
    assert pacing.acquired == 12
    assert sorted(pacing.slots) == sorted(f"p{i}@example.org" for i in range(12))


def test_without_waiting_for_retries_a_deferred_message_is_left_for_later(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    later, fine = add_subscribers(engine, now, ["later@example.org", "fine@example.org"])
    issue = an_issue(engine, now)
    begin(engine, settings, SendScope(issue.id), now)

    def script(recipient: str, attempt: int) -> Reply:
        if recipient == "later@example.org":
            return Reply(451, "4.3.0 try again later", "rcpt")
        return Reply(250, "2.0.0 Ok")

    transport = RecordingTransport(script)
    result = asyncio.run(
        send_range(
            engine,
            settings,  # backoff of 30 s, well within the 600 s retry wait when waiting
            issue,
            SendScope(issue.id),
            transport,
            SimpleFactory(issue.id, now),
            now,
            RunControls(wait_for_retries=False),
        )
    )
    assert result.counts.sent == 1 and result.counts.deferred == 1
    assert transport.attempts["later@example.org"] == 1
    rows = ledger_rows(engine, issue.id)
    assert rows[later][0] == "deferred"
    assert rows[fine][0] == "sent"


def test_a_row_is_claimed_only_while_pending_or_due(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    first, second = add_subscribers(engine, now, ["a@example.org", "b@example.org"])
    issue = an_issue(engine, now)
    claims = [ledger.Claim(sid, f"<{sid}@x>", ("p",), 10) for sid in (first, second)]
    with transaction(engine) as connection:
        ledger.seed_pending(connection, SendScope(issue.id), "daily", now)
        assert ledger.claim(connection, issue.id, claims[:1], now) == {first}
        assert ledger.claim(connection, issue.id, claims, now) == {second}
        assert ledger.claim(connection, issue.id, claims, now) == set()


def test_two_runners_of_one_range_send_each_message_once(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    emails = [f"r{i}@example.org" for i in range(120)]
    add_subscribers(engine, now, emails)
    issue = an_issue(engine, now)
    begin(engine, settings, SendScope(issue.id), now)
    transport = RecordingTransport(delay=0.001)

    async def both() -> None:
        await asyncio.gather(
            *(
                send_range(
                    engine,
                    settings,
                    issue,
                    SendScope(issue.id),
                    transport,
                    SimpleFactory(issue.id, now),
                    now,
                )
                for _ in range(2)
            )
        )

    asyncio.run(both())
    assert Counter(s.recipient for s in transport.sent) == Counter(emails)
    assert {r[0] for r in ledger_rows(engine, issue.id).values()} == {"sent"}
