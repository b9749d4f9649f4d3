"""One send over several worker processes: the scope is cut into contiguous parts, one per
process, each with its own database engine, ranker, composer and SMTP pool. Each child sends
its part through ``runner.send_here``; the parent begins and settles the issue (``runner``)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from digest.issues import Issue
from digest.sending.processes import usable_cores
from digest.sending.results import SHUTDOWN, RangeResult, RunControls, RunCounts
from digest.sending.scope import SendScope
from papercore.config import Settings
from papercore.db.engine import make_engine
from subscribers import store

# Why a child stopped when the parent told it to: another one paused, failed or the run is
# shutting down, and the parent reports which.
STOPPED_BY_SIBLING = "stopped by another worker of this run"


def parts_of(engine: Engine, scope: SendScope, parts: int) -> list[SendScope]:
    """The scope cut into up to ``parts`` contiguous parts holding about as many subscribers:
    its id range at subscriber ids, or its explicit list into equal lists."""
    if scope.subscriber_ids is not None:
        return scope.split_ids(parts)
    with engine.connect() as connection:
        bounds = store.id_bounds(connection, parts, scope.after_id, scope.up_to_id)
    return scope.split_at(bounds)


def send_in_processes(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    scope: SendScope,
    now: datetime,
    on_progress: Callable[[RunCounts], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RangeResult:
    """Send a begun scope in ``sending.processes`` spawned processes (one per core for "auto")
    and wait for them all; the result adds up their counts and carries the first pause (or
    failure) of any of them."""
    processes = settings.sending.processes
    shares = parts_of(engine, scope, processes if isinstance(processes, int) else usable_cores())
    context = multiprocessing.get_context("spawn")
    reports: multiprocessing.Queue[tuple[int, str, Any]] = context.Queue()
    stop = context.Event()
    workers = [
        context.Process(
            target=_child,
            args=(index, settings, issue, share, now, reports, stop, os.getpid()),
            daemon=True,
        )
        for index, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    latest = {index: RunCounts() for index in range(len(workers))}
    finished: set[int] = set()
    paused: str | None = None
    failure: str | None = None
    while len(finished) < len(workers):
        if should_stop is not None and not stop.is_set() and should_stop():
            paused = paused or SHUTDOWN
            stop.set()
        try:
            index, kind, payload = reports.get(timeout=0.5)
        except queue.Empty:
            dead = [i for i, w in enumerate(workers) if not w.is_alive() and i not in finished]
            for i in dead:
                if workers[i].exitcode != 0:
                    failure = failure or f"worker {i} exited with code {workers[i].exitcode}"
                    stop.set()
                finished.add(i)
            continue
        if kind == "progress":
            latest[index] = payload
            if on_progress is not None:
                total = RunCounts()
                for counts in latest.values():
                    total.add(counts)
                on_progress(total)
        elif kind == "done":
            latest[index], reason = payload
            finished.add(index)
            if reason is not None:
                paused = paused or reason
                stop.set()
        elif kind == "error":
            failure = failure or payload
            finished.add(index)
            stop.set()
    for worker in workers:
        worker.join(timeout=10)
    total = RunCounts()
    for counts in latest.values():
        total.add(counts)
    if failure is not None:
        paused = paused or f"a worker process failed: {failure}"
    return RangeResult(total, paused)


def _child(
    index: int,
    settings: Settings,
    issue: Issue,
    scope: SendScope,
    now: datetime,
    reports: multiprocessing.Queue[tuple[int, str, Any]],
    stop: Any,
    parent: int,
) -> None:
    import asyncio

    from digest.sending.runner import send_here
    from papercore.errors import DigestError

    _die_with_parent(parent)
    engine = make_engine(settings.database_url)

    def should_stop() -> bool:  # also when the parent died (e.g. killed): never run orphaned
        return bool(stop.is_set()) or os.getppid() != parent

    def progress(counts: RunCounts) -> None:
        reports.put((index, "progress", RunCounts(**vars(counts))))

    controls = RunControls(
        should_stop=should_stop, on_progress=progress, stop_reason=STOPPED_BY_SIBLING
    )
    try:
        result = asyncio.run(send_here(engine, settings, issue, scope, now, controls))
    except DigestError as exc:
        reports.put((index, "error", exc.one_line()))
        return
    finally:
        engine.dispose()
    reports.put((index, "done", (result.counts, result.paused)))


def _die_with_parent(parent: int) -> None:
    """A parent killed outright (SIGKILL, OOM) takes its children along, as if the run were one
    process: what they had in flight stays ``sending`` and the next run reports it unknown,
    rather than orphans sending on beside it. (A parent told to stop tells them first.)"""
    if not sys.platform.startswith("linux"):
        return  # elsewhere ``should_stop`` notices the parent gone and stops cleanly
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)
