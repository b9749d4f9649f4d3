"""A long-running command (``digest inbound``, ``digest smtp-sink``) serves until SIGTERM or
Ctrl-C, then stops its server, and leaves the process's SIGTERM handler as it found it."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from digest.cli.serving import serve_until_stopped, stop_on_sigterm, until_stopped
from papercore.errors import InputError


class Server:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.events: list[str] = []

    def start(self) -> None:
        if self.refuse:
            raise OSError(98, "Address already in use")
        self.events.append("start")

    def stop(self) -> None:
        self.events.append("stop")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_server_serves_until_sigterm_or_ctrl_c_then_stops(signum: int) -> None:
    before = signal.getsignal(signal.SIGTERM)
    server = Server()

    def started() -> None:  # a SIGTERM at once, as from whoever reads the "listening" line
        server.events.append("started")
        os.kill(os.getpid(), signum)

    serve_until_stopped(server, "127.0.0.1", 2525, started)
    assert server.events == ["start", "started", "stop"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_address_in_use_is_an_input_error() -> None:
    refused = r"cannot listen on 127\.0\.0\.1:25: Address already in use"
    with pytest.raises(InputError, match=refused):
        serve_until_stopped(Server(refuse=True), "127.0.0.1", 25)


def test_work_sees_sigterm_through_its_event() -> None:
    seen: list[bool] = []

    def work(stopped: threading.Event) -> None:
        seen.append(stopped.wait(10))

    def started() -> None:  # the handler is in place by now: a SIGTERM cannot kill pytest
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    until_stopped(work, started)
    assert seen == [True]


def test_sigterm_only_sets_the_event_while_the_block_runs() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm() as stopping:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stopping.wait(5)
    assert signal.getsignal(signal.SIGTERM) is before
