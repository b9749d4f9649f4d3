"""Pacing shared through PostgreSQL: two limiters stand for two worker processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
    # A real process takes both slots of example.com, says so, and is then SIGKILLed.
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_TWO_SLOTS, info],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"

        async def scenario() -> tuple[bool, int]:
            alive = SharedDomainLimiter(info, cap=2)
            try:
                try:  # while the holder lives, its slots are not to be had
                    async with asyncio.timeout(0.5), alive.slot("b@example.com"):
                        pass
                    blocked = False
                except TimeoutError:
                    blocked = True
                holder.send_signal(signal.SIGKILL)
                await asyncio.to_thread(holder.wait)
                async with (
                    asyncio.timeout(10),
                    alive.slot("c@example.com"),
                    alive.slot("d@EXAMPLE.com"),
                ):
                    return blocked, alive.in_flight("example.com")
            finally:
                await alive.close()

        blocked, taken = asyncio.run(scenario())
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
    assert blocked  # the holder really held every slot
    assert taken == 2  # and once it died, another process got all of them


_HOLD_TWO_SLOTS = """
import asyncio, sys
from digest.queue.pacing import SharedDomainLimiter

async def hold() -> None:
    limiter = SharedDomainLimiter(sys.argv[1], cap=2)
    async with limiter.slot("x@example.com"), limiter.slot("y@example.com"):
        print("holding", flush=True)
        await asyncio.sleep(3600)

asyncio.run(hold())
"""


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
