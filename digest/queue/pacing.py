"""Pacing shared by every worker process through PostgreSQL.

- ``SharedRateLimit``: a global messages-per-second limit (GCRA). One row holds the theoretical
  arrival time ``tat`` of the next message; a process reserves ``n`` messages at once by moving it
  ``n / rate`` seconds on, in one UPDATE, then spends them at ``rate`` from the start of its window.
  Reservations of all processes line up one after another, so together they never exceed ``rate``
  (an idle limiter saves up nothing: the burst is one reservation).
- ``SharedDomainLimiter``: at most ``cap`` messages in flight to one recipient domain over all
  processes. Slot ``i`` of a domain is a session advisory lock; a process keeps a slot it holds for
  a moment after use (``linger``) so a stream of messages to one domain costs no round trips, and
  gives it back after ``max_hold`` so other processes get their turn. A dead process's session
  ends, and with it its slots.

``SharedPacing`` joins the two as the send loop's ``digest.sending.pacing.Pacing``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg

# The pacing row is no record of anything (a crash loses at most one reservation's spacing), so
# its commit does not wait for the WAL flush: synchronous_commit is off for this statement's
# transaction only (set_config(..., true) is SET LOCAL).
_RESERVE = """
INSERT INTO pacing_state (name, tat)
SELECT %(name)s, clock_timestamp() + make_interval(secs => %(span)s)
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS local_setting
ON CONFLICT (name) DO UPDATE
   SET tat = GREATEST(pacing_state.tat, clock_timestamp()) + make_interval(secs => %(span)s)
RETURNING EXTRACT(EPOCH FROM (tat - clock_timestamp()))::float8
"""


@dataclass
class SharedRateLimit:
    """At most ``rate`` acquisitions per second over all processes sharing ``name``."""

    conninfo: str
    rate: float
    name: str = "global"
    reserve: int = 0  # messages per reservation; 0: about 50 ms worth, between 1 and 50
    _connection: psycopg.AsyncConnection[Any] | None = field(default=None, init=False)
    _left: int = field(default=0, init=False)
    _next_at: float = field(default=0.0, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @property
    def chunk(self) -> int:
        return self.reserve or max(1, min(50, math.ceil(self.rate * 0.05)))

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            if self._left == 0:
                await self._reserve()
            at = self._next_at
            self._next_at += 1 / self.rate
            self._left -= 1
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _reserve(self) -> None:
        if self._connection is None:
            self._connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        n = self.chunk
        span = n / self.rate
        cursor = await self._connection.execute(_RESERVE, {"name": self.name, "span": span})
        row = await cursor.fetchone()
        ahead = float(row[0]) if row else 0.0
        start = max(0.0, ahead - span)  # our window ends ``ahead`` seconds from now
        self._next_at = time.monotonic() + start
        self._left = n

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


# Rows are filtered one at a time and LIMIT stops the scan, so at most one lock is taken (no
# ORDER BY: a sort would run the filter, and take the locks, for every row first).
_LOCK_ANY = """
SELECT slot FROM unnest(%s::bigint[], %s::int[]) AS s(key, slot)
 WHERE pg_try_advisory_lock(key)
 LIMIT 1
"""


def _slot_key(domain: str, index: int) -> int:
    """A signed 64-bit advisory-lock key for slot ``index`` of ``domain``."""
    digest = hashlib.blake2b(f"digest-domain-slot:{domain}:{index}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@dataclass
class _Domain:
    free: dict[int, float] = field(default_factory=dict)  # held, idle: slot -> held since
    busy: dict[int, float] = field(default_factory=dict)  # held, in use: slot -> held since
    changed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class SharedDomainLimiter:
    """At most ``cap`` messages in flight at once to any one recipient domain, over all
    processes."""

    conninfo: str
    cap: int
    linger: float = 0.5
    max_hold: float = 2.0
    retry: float = 0.02
    _connection: psycopg.AsyncConnection[Any] | None = field(default=None, init=False)
    _domains: dict[str, _Domain] = field(default_factory=dict, init=False)
    _db: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _releasing: list[tuple[str, int]] = field(default_factory=list, init=False)
    _unlocker: asyncio.Task[None] | None = field(default=None, init=False)

    @asynccontextmanager
    async def slot(self, recipient: str) -> AsyncIterator[None]:
        domain = recipient.rpartition("@")[2].lower()
        state = self._domains.setdefault(domain, _Domain())
        index = await self._take(domain, state)
        try:
            yield
        finally:
            self._give(domain, state, index)

    def in_flight(self, domain: str) -> int:
        """Messages this process has in flight to ``domain``."""
        state = self._domains.get(domain)
        return 0 if state is None else len(state.busy)

    async def _take(self, domain: str, state: _Domain) -> int:
        while True:
            if state.free:
                index, since = state.free.popitem()
                state.busy[index] = since
                return index
            taken = await self._lock_any(domain, state)
            if taken is not None:
                return taken
            state.changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), self.retry)

    def _give(self, domain: str, state: _Domain, index: int) -> None:
        since = state.busy.pop(index)
        if time.monotonic() - since >= self.max_hold:
            self._release(domain, index)
        else:
            state.free[index] = since
            asyncio.get_running_loop().call_later(self.linger, self._expire, domain, index, since)
        state.changed.set()

    def _expire(self, domain: str, index: int, since: float) -> None:
        state = self._domains.get(domain)
        if state is not None and state.free.get(index) == since:
            del state.free[index]
            self._release(domain, index)

    def _release(self, domain: str, index: int) -> None:
        """Give the slot back soon: slots given back meanwhile go in the same round trip."""
        self._releasing.append((domain, index))
        if self._unlocker is None or self._unlocker.done():
            self._unlocker = asyncio.get_running_loop().create_task(self._unlock_released())

    async def _lock_any(self, domain: str, state: _Domain) -> int | None:
        """Take (and mark busy) the first slot of the domain that no process holds, in one round
        trip; None when all are held. Choosing and marking happen under ``_db``, so two of this
        process's messages never take one slot (a session's advisory locks are re-entrant)."""
        connection = await self._open()
        async with self._db:
            candidates = [i for i in range(self.cap) if i not in state.busy and i not in state.free]
            if not candidates:
                return None
            cursor = await connection.execute(
                _LOCK_ANY, ([_slot_key(domain, i) for i in candidates], candidates)
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            index = int(row[0])
            state.busy[index] = time.monotonic()
            return index

    async def _unlock_released(self) -> None:
        while True:  # slots given back while a round trip was on its way go in the next one
            async with self._db:
                released, self._releasing = self._releasing, []
                connection = self._connection
                if connection is None or not released:  # closed: the session's locks are gone
                    return
                await connection.execute(
                    "SELECT pg_advisory_unlock(k) FROM unnest(%s::bigint[]) AS k",
                    ([_slot_key(domain, index) for domain, index in released],),
                )
            for domain in {domain for domain, _ in released}:
                state = self._domains.get(domain)
                if state is not None:
                    state.changed.set()

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None:
            self._connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        return self._connection

    async def close(self) -> None:
        """Give every slot back (closing the session releases its advisory locks)."""
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self._domains.clear()


@dataclass
class SharedPacing:
    """``digest.sending.pacing.Pacing`` over all worker processes: the shared rate and the
    shared per-domain cap."""

    rate: SharedRateLimit
    domains: SharedDomainLimiter

    async def acquire(self) -> None:
        await self.rate.acquire()

    def slot(self, recipient: str) -> AbstractAsyncContextManager[None]:
        return self.domains.slot(recipient)

    async def close(self) -> None:
        await self.rate.close()
        await self.domains.close()
