"""Reply classification, backoff and the circuit breaker."""

from __future__ import annotations

import random

import pytest

from digest.sending.policy import CircuitBreaker, Verdict, backoff_seconds, classify
from digest.sending.transports import Reply


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (Reply(250, "2.0.0 Ok: queued"), Verdict.SENT),
        (Reply(451, "4.3.0 try later", "rcpt"), Verdict.RETRY),
        (Reply(421, "4.7.0 too many connections", "mail"), Verdict.RETRY),
        (Reply(550, "5.1.1 no such user", "rcpt"), Verdict.BOUNCE),
        (Reply(550, "No such user here", "rcpt"), Verdict.BOUNCE),
        (Reply(553, "5.1.3 bad syntax", "rcpt"), Verdict.BOUNCE),
        (Reply(550, "5.7.1 rejected: SPF fail", "data"), Verdict.POLICY),
        (Reply(554, "5.7.26 unauthenticated mail", "data"), Verdict.POLICY),
        (Reply(552, "5.2.2 mailbox full", "rcpt"), Verdict.FAILED),
        (Reply(554, "transaction failed", "data"), Verdict.FAILED),
    ],
)
def test_replies_are_classified_by_basic_and_enhanced_code(reply: Reply, verdict: Verdict) -> None:
    assert classify(reply) is verdict


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    waits = [backoff_seconds(n, 30, 3600, rng) for n in range(1, 10)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(3600, 30 * 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)


def test_the_breaker_waits_for_a_full_window_then_trips_at_the_threshold() -> None:
    breaker = CircuitBreaker(threshold=0.5, window=10)
    assert not any(breaker.record(True) for _ in range(9))
    assert breaker.record(False)  # 9 errors of 10
    calm = CircuitBreaker(threshold=0.5, window=10)
    results = [calm.record(i % 3 == 0) for i in range(100)]
    assert not any(results)
