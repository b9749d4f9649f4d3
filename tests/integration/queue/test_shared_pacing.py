"""Pacing shared through PostgreSQL: two limiters stand for two worker processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from digest.queue.jobs import conninfo
from digest.queue.pacing import SharedDomainLimiter, SharedRateLimit
from papercore.db.engine import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def info(postgres_url: str) -> Iterator[str]:
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM pacing_state"))
    engine.dispose()
    yield conninfo(postgres_url)


def test_the_domain_cap_holds_across_processes(info: str) -> None:
    async def scenario() -> None:
        first = SharedDomainLimiter(info, cap=2, linger=0.05)
        second = SharedDomainLimiter(info, cap=2, linger=0.05)
        try:
            async with first.slot("a@example.com"), first.slot("b@example.com"):
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5), second.slot("c@EXAMPLE.com"):
                        pass
                async with second.slot("d@other.example"):  # another domain is not held up
                    assert second.in_flight("other.example") == 1
            # Once the first process lets its slots go, the second gets one.
            async with asyncio.timeout(5), second.slot("c@example.com"):
                assert second.in_flight("example.com") == 1
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_a_dead_process_frees_its_domain_slots(info: str) -> None:
    async def scenario() -> None:
        dead = SharedDomainLimiter(info, cap=1)
        alive = SharedDomainLimiter(info, cap=1)
        try:
            entered = dead.slot("a@example.com")
            await entered.__aenter__()
            await dead.close()  # its session ends, as when the process is killed
            async with asyncio.timeout(5), alive.slot("b@example.com"):
                pass
        finally:
            await alive.close()

    asyncio.run(scenario())


def test_rate_reservations_of_processes_follow_one_another(info: str) -> None:
    async def scenario() -> tuple[float, float, float]:
        first = SharedRateLimit(info, rate=50.0, reserve=5)
        second = SharedRateLimit(info, rate=50.0, reserve=5)
        try:
            await first.acquire()
            first_window = first._next_at - 1 / 50.0
            await second.acquire()
            second_window = second._next_at - 1 / 50.0
            return first_window, second_window, 5 / 50.0
        finally:
            await first.close()
            await second.close()

    first_window, second_window, span = asyncio.run(scenario())
    # The second process's window starts where the first one's five messages end.
    assert second_window >= first_window + span - 0.02
