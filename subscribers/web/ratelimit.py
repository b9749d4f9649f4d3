"""Fixed-budget sliding-window rate limits, kept in memory (one `digest serve` process)."""

from __future__ import annotations

from collections import deque
from threading import Lock

MAX_KEYS = 100_000


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = Lock()

    def allow(self, key: str, at: float) -> bool:
        """Count a hit for ``key`` at time ``at`` (seconds); False once over the budget (the
        refused hit is not counted)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._prune(at)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(at)
            return True

    def _prune(self, at: float) -> None:
        stale = [k for k, h in self._hits.items() if not h or h[-1] <= at - self.window]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= MAX_KEYS:  # still full of live keys: forget the oldest half
            for key in list(self._hits)[: MAX_KEYS // 2]:
                del self._hits[key]
