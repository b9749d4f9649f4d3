"""What a reply means for a delivery: sent, retry later, bounce, fail, or pause the whole run."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from digest.sending.transports import Reply


class Verdict(Enum):
    SENT = "sent"
    RETRY = "retry"  # 4xx or a connection problem: try again after a backoff
    BOUNCE = "bounce"  # 5.1.x: the mailbox does not exist; suppress the address
    FAILED = "failed"  # another permanent refusal of this one message
    POLICY = "policy"  # 5.7.x: the relay or receiver refuses us; pause instead of blaming people


def classify(reply: Reply) -> Verdict:
    """The verdict on one server reply (RFC 5321 basic code plus RFC 3463 enhanced code)."""
    if reply.accepted:
        return Verdict.SENT
    if 400 <= reply.code < 500:
        return Verdict.RETRY
    enhanced = reply.enhanced or ""
    if enhanced.startswith("5.7."):
        return Verdict.POLICY
    if enhanced.startswith("5.1.") or (not enhanced and reply.code in (550, 551, 553)):
        return Verdict.BOUNCE if reply.stage == "rcpt" or enhanced else Verdict.FAILED
    return Verdict.FAILED


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": between half and all of min(cap, base·2^(n-1))."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + rng.random() * ceiling / 2


@dataclass
class CircuitBreaker:
    """Trips when the share of errors among the last ``window`` outcomes reaches ``threshold``;
    it never trips before ``window`` outcomes have been seen."""

    threshold: float
    window: int
    _recent: deque[bool] = field(default_factory=deque)
    _errors: int = 0

    def record(self, error: bool) -> bool:
        """Add one outcome; returns whether the breaker is now tripped."""
        self._recent.append(error)
        self._errors += error
        if len(self._recent) > self.window:
            self._errors -= self._recent.popleft()
        return self.tripped

    @property
    def tripped(self) -> bool:
        return len(self._recent) >= self.window and self.rate >= self.threshold

    @property
    def rate(self) -> float:
        return self._errors / len(self._recent) if self._recent else 0.0
