"""Values computed once per key, kept on the web app object (never a module dict keyed by id()):
concurrent cold requests for one key wait for the first to compute it instead of each doing
the work (single flight), and at most ``size`` values are kept (the oldest go first)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``size`` values by key, each computed once however many threads ask at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[Hashable, V] = {}
        self._computing: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``, computed by ``compute`` if no thread has (blocking: call from
        a worker thread). An exception is raised to the caller that computed, not kept."""
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:  # computed while this thread waited
                    return self._values[key]
            value = compute()
            with self._guard:
                while len(self._values) >= self.size:
                    self._values.pop(next(iter(self._values)))
                self._values[key] = value
                self._computing.pop(key, None)
            return value
