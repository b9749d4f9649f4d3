"""One send run over several worker processes: the id range is cut into contiguous slices, one
per process, each with its own database engine, ranker, composer and SMTP pool."""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from digest.issues import Issue
from digest.sending.run import SHUTDOWN, RunCounts
from papercore.config import Settings
from papercore.db.engine import make_engine
from papercore.db.schema import subscribers

Slice = tuple[int, int | None]


def id_slices(
    engine: Engine, frequency: str, parts: int, after_id: int, up_to_id: int | None
) -> list[Slice]:
    """Up to ``parts`` contiguous (after_id, up_to_id] slices holding about as many subscribers."""
    condition = subscribers.c.id > after_id
    if up_to_id is not None:
        condition = condition & (subscribers.c.id <= up_to_id)
    with engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(subscribers).where(condition)
        ).scalar_one()
        bounds: list[int] = []
        for k in range(1, parts):
            found = connection.execute(
                select(subscribers.c.id)
                .where(condition)
                .order_by(subscribers.c.id)
                .offset(total * k // parts - 1)
                .limit(1)
            ).scalar_one_or_none()
            if found is not None and (not bounds or found > bounds[-1]):
                bounds.append(int(found))
    edges: list[int | None] = [after_id, *bounds, up_to_id]
    return [(int(edges[i] or 0), edges[i + 1]) for i in range(len(edges) - 1)]


def send_in_processes(
    engine: Engine,
    settings: Settings,
    issue: Issue,
    now: datetime,
    after_id: int,
    up_to_id: int | None,
    on_progress: Any,
    subscriber_ids: Sequence[int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[RunCounts, str | None]:
    parts = settings.sending.processes
    shares: list[tuple[int, int | None, list[int] | None]]
    if subscriber_ids is None:
        slices = id_slices(engine, issue.frequency, parts, after_id, up_to_id)
        shares = [(lo, hi, None) for lo, hi in slices]
    else:
        ordered = sorted(set(subscriber_ids))
        size = max(1, -(-len(ordered) // parts))
        shares = [(after_id, up_to_id, ordered[i : i + size]) for i in range(0, len(ordered), size)]
    context = multiprocessing.get_context("spawn")
    reports: multiprocessing.Queue[tuple[int, str, Any]] = context.Queue()
    stop = context.Event()
    workers = [
        context.Process(
            target=_child,
            args=(index, settings, issue, now, lo, hi, ids, reports, stop, os.getpid()),
            daemon=True,
        )
        for index, (lo, hi, ids) in enumerate(shares)
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
    return total, paused


def _child(
    index: int,
    settings: Settings,
    issue: Issue,
    now: datetime,
    after_id: int,
    up_to_id: int | None,
    subscriber_ids: list[int] | None,
    reports: multiprocessing.Queue[tuple[int, str, Any]],
    stop: Any,
    parent: int,
) -> None:
    import asyncio

    from digest.sending.service import _send_here
    from papercore.errors import DigestError

    engine = make_engine(settings.database_url)

    def should_stop() -> bool:  # also when the parent died (e.g. killed): never run orphaned
        return bool(stop.is_set()) or os.getppid() != parent

    def progress(counts: RunCounts) -> None:
        reports.put((index, "progress", RunCounts(**vars(counts))))

    try:
        counts, paused = asyncio.run(
            _send_here(
                engine,
                settings,
                issue,
                now,
                None,
                None,
                after_id,
                up_to_id,
                progress,
                should_stop,
                subscriber_ids,
                # the parent stopped this worker: another one paused, failed or the run is
                # shutting down, and the parent reports which
                "stopped by another worker of this run",
            )
        )
    except DigestError as exc:
        reports.put((index, "error", exc.one_line()))
        return
    finally:
        engine.dispose()
    reports.put((index, "done", (counts, paused)))
