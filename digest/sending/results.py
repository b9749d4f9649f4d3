"""What a send run reports: its counts, why it paused, and how it is controlled from outside
(stop, progress, pacing, waiting for retries)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from digest.sending.pacing import Pacing

# Why a run stopped when ``should_stop`` said so (SIGTERM, the scheduler shutting down).
SHUTDOWN = "stopped: shutdown requested"


@dataclass
class RunCounts:
    """What happened in this run (not the whole ledger)."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0  # of failed: the address was suppressed
    skipped: int = 0
    unknown: int = 0
    bytes_sent: int = 0

    def add(self, other: RunCounts) -> None:
        """Add ``other``'s figures to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def done(self) -> int:
        """Messages with an outcome (sent, failed, skipped or unknown)."""
        return self.sent + self.failed + self.skipped + self.unknown


ProgressFn = Callable[[RunCounts], None]


@dataclass
class RangeResult:
    """What one pass over a scope did, and why it paused (None: it did not)."""

    counts: RunCounts
    paused: str | None = None


@dataclass(frozen=True)
class RunControls:
    """How a run is steered from outside. ``should_stop()`` turning true stops it taking new
    messages and pauses it with ``stop_reason``; ``pacing`` replaces the in-process limits;
    without ``wait_for_retries`` the run returns once nothing is due now instead of waiting up to
    ``sending.retry_wait_seconds`` for deferred messages."""

    should_stop: Callable[[], bool] | None = None
    on_progress: ProgressFn | None = None
    stop_reason: str = SHUTDOWN
    pacing: Pacing | None = None
    wait_for_retries: bool = True
    rng: random.Random = field(default_factory=random.Random)
