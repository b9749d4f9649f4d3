"""Long-running commands until the operator stops them: SIGTERM, and Ctrl-C where it is meant
to stop cleanly rather than interrupt."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from papercore.errors import InputError


class Server(Protocol):
    """A server that serves in a thread of its own between ``start`` and ``stop``."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """An event that SIGTERM sets while the block runs; the handler before it is put back."""
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGTERM, previous)


def until_stopped(
    work: Callable[[threading.Event], None], started: Callable[[], None] = lambda: None
) -> None:
    """Call ``started`` (which says so: whoever reads that may send SIGTERM at once, so it comes
    after the handler), then run ``work(stopped)`` in this (the main) thread until it returns.
    SIGTERM sets ``stopped``, which ``work`` watches; a Ctrl-C that reaches ``work`` ends it
    without a traceback."""
    with stop_on_sigterm() as stopped:
        started()
        try:
            work(stopped)
        except KeyboardInterrupt:
            stopped.set()


def serve_until_stopped(
    server: Server, host: str, port: int, started: Callable[[], None] = lambda: None
) -> None:
    """Start ``server`` (bound to ``host``:``port``), call ``started``, and serve until SIGTERM or
    Ctrl-C; then stop it. Raises InputError when the address cannot be bound."""

    def serve(stopped: threading.Event) -> None:
        try:
            server.start()
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        try:
            started()
            while not stopped.wait(0.5):  # a timeout, so that Ctrl-C is seen promptly
                pass
        finally:
            server.stop()

    until_stopped(serve)
