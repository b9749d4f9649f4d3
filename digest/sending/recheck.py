"""Whether a claimed message's subscriber still wants it, asked again just before it leaves.

The claim already checks the subscriber's status in the database, but a claimed page can wait
in the queue for the pacing limits for a while; an unsubscribe in that time must still stop
the message. One query (in a thread) asks about every message waiting to leave, at most once
per ``interval`` seconds, so each message is checked within about a second of being handed to
the relay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from sqlalchemy import Engine

from subscribers import store

RECHECK_SECONDS = 1.0


class StatusRecheck:
    def __init__(self, engine: Engine, interval: float = RECHECK_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.waiting: set[int] = set()  # claimed, not yet handed to the relay
        self.stopped: set[int] = set()  # of those, the ones no longer active
        self._checked = time.monotonic()
        self._lock = asyncio.Lock()

    def claimed(self, subscriber_ids: Iterable[int]) -> None:
        """These messages were just claimed (the claim checked their subscribers then)."""
        self.waiting.update(subscriber_ids)

    async def still_wanted(self, subscriber_id: int) -> bool:
        """False when the subscriber stopped their mail since their message was claimed (as
        of a check at most ``interval`` seconds old); the message then leaves the waiting set."""
        if time.monotonic() - self._checked >= self.interval:
            async with self._lock:
                if time.monotonic() - self._checked >= self.interval:
                    waiting = sorted(self.waiting)
                    self.stopped |= await asyncio.to_thread(self._inactive, waiting)
                    self._checked = time.monotonic()
        self.waiting.discard(subscriber_id)
        if subscriber_id in self.stopped:
            self.stopped.discard(subscriber_id)
            return False
        return True

    def _inactive(self, subscriber_ids: list[int]) -> set[int]:
        with self.engine.connect() as connection:
            return store.inactive_among(connection, subscriber_ids)
