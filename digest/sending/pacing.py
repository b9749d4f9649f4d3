"""Politeness: a global messages-per-second token bucket and a per-recipient-domain cap.

``Pacing`` is the port the send loop uses; ``LocalPacing`` (the two limits below, in this
process) is the default, ``digest.queue.pacing`` shares them between worker processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol


class Pacing(Protocol):
    """The send loop's limits: ``acquire()`` before each message (the global rate), and hold
    ``slot(recipient)`` while it is transmitted (the per-domain connection cap)."""

    async def acquire(self) -> None: ...

    def slot(self, recipient: str) -> AbstractAsyncContextManager[None]: ...


@dataclass
class TokenBucket:
    """At most ``rate`` acquisitions per second on average, bursts up to ``burst``; rate 0 means
    unlimited."""

    rate: float
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(default=0.0, init=False)
    _last: float | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            while True:
                now = self.clock()
                if self._last is None:
                    self._tokens = self.burst
                else:
                    self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # float drift must not make a waiter spin
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


@dataclass
class DomainLimiter:
    """At most ``cap`` messages in flight at once to any one recipient domain."""

    cap: int
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict, init=False)

    @asynccontextmanager
    async def slot(self, recipient: str) -> AsyncIterator[None]:
        domain = recipient.rpartition("@")[2].lower()
        semaphore = self._slots.get(domain)
        if semaphore is None:
            semaphore = self._slots[domain] = asyncio.Semaphore(self.cap)
        async with semaphore:
            yield

    def in_flight(self, domain: str) -> int:
        semaphore = self._slots.get(domain)
        return 0 if semaphore is None else self.cap - semaphore._value


@dataclass
class LocalPacing:
    """``Pacing`` within one process: a token bucket and a per-domain limiter."""

    bucket: TokenBucket
    limiter: DomainLimiter

    @classmethod
    def of(cls, rate: float, cap: int) -> LocalPacing:
        return cls(TokenBucket(rate), DomainLimiter(cap))

    async def acquire(self) -> None:
        await self.bucket.acquire()

    def slot(self, recipient: str) -> AbstractAsyncContextManager[None]:
        return self.limiter.slot(recipient)
