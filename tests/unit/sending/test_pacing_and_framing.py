"""The token bucket, the per-domain cap and DATA framing."""

from __future__ import annotations

import asyncio

import pytest

from digest.sending.pacing import DomainLimiter, TokenBucket
from digest.sending.transports.smtp import wire_data


async def test_the_bucket_spaces_messages_to_the_rate() -> None:
    fake = {"t": 0.0}
    slept: list[float] = []
    bucket = TokenBucket(rate=10, clock=lambda: fake["t"])
    original = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake["t"] += seconds
        await original(0)

    asyncio.sleep = sleep  # type: ignore[assignment]
    try:
        for _ in range(5):
            await bucket.acquire()
    finally:
        asyncio.sleep = original
    assert abs(fake["t"] - 0.4) < 1e-9  # the first is free, then one every 0.1 s
    assert all(abs(s - 0.1) < 1e-9 for s in slept)


async def test_an_unlimited_bucket_never_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {"t": 0.0}
    slept: list[float] = []
    original = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake["t"] += seconds
        await original(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    unlimited = TokenBucket(rate=0, clock=lambda: fake["t"])
    for _ in range(1000):
        await unlimited.acquire()
    assert slept == [] and fake["t"] == 0.0  # 1000 messages, no pause at all
    limited = TokenBucket(rate=1000, clock=lambda: fake["t"])
    for _ in range(3):
        await limited.acquire()
    assert len(slept) == 2  # the same fake sleep does see a limited bucket wait


async def test_at_most_cap_messages_are_in_flight_per_domain() -> None:
    limiter = DomainLimiter(cap=3)
    peak = {"gmail.com": 0, "example.org": 0}

    async def deliver(address: str) -> None:
        async with limiter.slot(address):
            domain = address.split("@")[1].lower()
            peak[domain] = max(peak[domain], limiter.in_flight(domain))
            await asyncio.sleep(0.001)

    addresses = [f"u{i}@gmail.com" for i in range(20)] + [f"v{i}@EXAMPLE.org" for i in range(5)]
    await asyncio.gather(*(deliver(a) for a in addresses))
    assert peak == {"gmail.com": 3, "example.org": 3}


def test_data_is_dot_stuffed_crlf_and_terminated() -> None:
    assert wire_data(b"Subject: x\r\n\r\n.hidden\r\nok\r\n") == (
        b"Subject: x\r\n\r\n..hidden\r\nok\r\n.\r\n"
    )
    assert wire_data(b"a\nb") == b"a\r\nb\r\n.\r\n"
    assert wire_data(b"plain\r\n") == b"plain\r\n.\r\n"
