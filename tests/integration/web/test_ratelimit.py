"""Signup rate limits live in the database: every web process shares them, keys are hashed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from digest.web.ratelimit import RateLimiter
from papercore.db.schema import rate_limit_hits

SECRET = "test-secret-key-0123456789abcdef0123456789"


def test_a_sliding_window_per_key(engine: Engine) -> None:
    limiter = RateLimiter(engine, "signup-ip", 2, 60, SECRET)
    assert limiter.allow("a", 0) and limiter.allow("a", 1) and not limiter.allow("a", 2)
    assert limiter.allow("b", 2)  # another key has its own budget
    assert not limiter.allow("a", 59)  # refused hits are not counted...
    assert limiter.allow("a", 60.5)  # ...and the hit at 0 has left the window
    other_scope = RateLimiter(engine, "signup-address", 1, 60, SECRET)
    assert other_scope.allow("a", 61)


def test_two_processes_share_one_budget_and_keys_are_not_stored(engine: Engine) -> None:
    first = RateLimiter(engine, "signup-address", 3, 86_400, SECRET)
    second = RateLimiter(engine, "signup-address", 3, 86_400, SECRET)  # another web process
    assert first.allow("ada@example.org", 10) and second.allow("ada@example.org", 11)
    assert first.allow("ada@example.org", 12)
    assert not second.allow("ada@example.org", 13)
    with engine.connect() as connection:
        stored = connection.execute(select(rate_limit_hits.c.key_hash)).scalars().all()
    assert len(stored) == 3 and not any("ada" in h for h in stored)


def test_concurrent_hits_never_exceed_the_budget(engine: Engine) -> None:
    limiter = RateLimiter(engine, "signup-ip", 5, 3600, SECRET)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda k: limiter.allow("203.0.113.9", 100 + k), range(40)))
    assert sum(results) == 5


def test_old_hits_are_deleted(engine: Engine) -> None:
    limiter = RateLimiter(engine, "signup-ip", 10, 60, SECRET)
    for k in range(5):
        assert limiter.allow(f"198.51.100.{k}", k)
    assert limiter.allow("198.51.100.200", 1000)
    with engine.connect() as connection:
        assert len(connection.execute(select(rate_limit_hits.c.id)).all()) == 1
