"""Acceptance for scale-out: one scheduler and three `digest worker` processes on PostgreSQL send
one issue to 20,000 subscribers; one worker is killed with SIGKILL midway. Every subscriber ends
with exactly one acknowledged message (at the sink and in the ledger) except those reported as
unknown-outcome, and the surviving workers finish the dead worker's batches."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from digest.sending.sink import Received, SinkHandler, SmtpServer
from papercore.db.engine import make_engine
from papercore.db.schema import interests, metadata, subscribers
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SUBSCRIBERS = 20_000
TOPICS = ("neural networks", "language models", "image generation", "reinforcement learning")
DEADLINE = 600.0  # seconds; only so that a broken run fails instead of hanging


class CountingSink:
    """Counts messages per recipient (nothing else is kept)."""

    def __init__(self) -> None:
        self.per_recipient: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.handler = SinkHandler(keep=False, on_message=self._count)

    def _count(self, message: Received) -> None:
        with self._lock:
            self.per_recipient.update(message.recipients)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.per_recipient.values())


@pytest.fixture
def sink() -> Iterator[tuple[CountingSink, int]]:
    counting = CountingSink()
    server = SmtpServer(counting.handler).start()
    try:
        yield counting, server.port
    finally:
        server.stop()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    """The session's database, emptied. Commits there skip the WAL flush while the test runs
    (nothing in a throwaway database needs to survive a power cut); the ledger's semantics are
    unchanged, only the machine's fsync latency is taken out of the wall time."""
    name = make_url(postgres_url).database
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            connection.execute(
                text("TRUNCATE procrastinate_jobs, procrastinate_workers RESTART IDENTITY CASCADE")
            )
    yield engine
    with engine.begin() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" RESET synchronous_commit'))
    engine.dispose()


def add_due_subscribers(engine: Engine, n: int, now: datetime) -> None:
    """``n`` active daily subscribers whose delivery hour has come today (UTC)."""
    confirmed = now - timedelta(days=2)
    people = [
        {
            "email": f"reader{i}@host{i % 50}.example",
            "name": "",
            "status": "active",
            "frequency": "daily",
            "weekday": 0,
            "hour": now.hour,
            "timezone": "UTC",
            "token_version": 1,
            "created_at": confirmed,
            "updated_at": confirmed,
            "confirmed_at": confirmed,
        }
        for i in range(n)
    ]
    with engine.begin() as connection:
        connection.execute(insert(subscribers), people)
        ids = connection.execute(text("SELECT id FROM subscribers ORDER BY id")).scalars().all()
        connection.execute(
            insert(interests),
            [
                {"subscriber_id": sid, "kind": "topic", "phrase": TOPICS[k % 4], "weight": 1.0}
                for k, sid in enumerate(ids)
            ],
        )


def wait_for(what: str, condition: Callable[[], bool], deadline: float) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar() or 0)


def test_workers_survive_a_killed_worker_without_doubled_or_lost_mail(
    tmp_path: Path, postgres_url: str, pg: Engine, sink: tuple[CountingSink, int]
) -> None:
    counting, port = sink
    workdir = tmp_path / "work"
    workdir.mkdir()
    cli = Cli(workdir, postgres_url)
    cli.env |= {
        "DIGEST_QUEUE__BACKEND": "procrastinate",
        "DIGEST_QUEUE__BATCH_SIZE": "500",
        "DIGEST_QUEUE__HEARTBEAT_SECONDS": "1",
        "DIGEST_QUEUE__STALLED_AFTER_SECONDS": "5",
        "DIGEST_SMTP__PORT": str(port),
        "DIGEST_SMTP__POOL_SIZE": "4",
        "DIGEST_RANKING__SEMANTIC": "off",
        "DIGEST_RANKING__RELEVANCE_FLOOR": "0",
    }
    deadline = time.monotonic() + DEADLINE
    assert "job queue" in cli("init").stdout
    cli("ingest", *map(str, SAMPLE_PAGES))
    add_due_subscribers(pg, SUBSCRIBERS, datetime.now(UTC))

    workers: list[subprocess.Popen[bytes]] = []
    worker_ids: list[int] = []
    try:
        for n in range(3):
            workers.append(
                subprocess.Popen(
                    [DIGEST, "worker", "--dev", "--name", f"w{n}"],
                    cwd=workdir,
                    env=cli.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=open(workdir / f"w{n}.log", "wb"),  # noqa: SIM115
                )
            )
            wait_for(
                f"worker {n} registers",
                lambda n=n: scalar(pg, "SELECT count(*) FROM procrastinate_workers") == n + 1,
                deadline,
            )
            worker_ids.append(scalar(pg, "SELECT max(id) FROM procrastinate_workers"))

        started = time.monotonic()
        scheduled = cli("run", "--dev", "--once", "--scheduler-only")
        print(f"scheduler done {time.monotonic() - started:.1f}s")
        assert scheduled.returncode == 0
        batches = scalar(pg, "SELECT count(*) FROM procrastinate_jobs")
        assert batches == SUBSCRIBERS // 500

        # Midway, kill a worker while it is sending a batch.
        victim = worker_ids[0]
        wait_for(
            "the first worker is midway through a batch",
            lambda: (
                counting.total >= SUBSCRIBERS // 4
                and scalar(
                    pg,
                    "SELECT count(*) FROM procrastinate_jobs "
                    "WHERE worker_id = :w AND status = 'doing'",
                    w=victim,
                )
                > 0
            ),
            deadline,
        )
        with pg.connect() as connection:
            orphaned = (
                connection.execute(
                    text(
                        "SELECT id FROM procrastinate_jobs "
                        "WHERE worker_id = :w AND status = 'doing'"
                    ),
                    {"w": victim},
                )
                .scalars()
                .all()
            )
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        assert counting.total < SUBSCRIBERS  # it really was midway
        print(f"killed at {counting.total} messages, {time.monotonic() - started:.1f}s in")

        wait_for(
            "every batch is done",
            lambda: (
                scalar(
                    pg,
                    "SELECT count(*) FROM procrastinate_jobs WHERE status::text <> 'succeeded'",
                )
                == 0
            ),
            deadline,
        )
        print(f"all done {time.monotonic() - started:.1f}s")
        status = cli("status").stdout
        with pg.connect() as connection:  # before the survivors stop and unregister
            finished = connection.execute(
                text(
                    "SELECT id, status::text, worker_id FROM procrastinate_jobs "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": list(orphaned)},
            ).all()
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # The surviving workers finished the dead one's batches.
    assert orphaned and len(finished) == len(orphaned)
    for _, job_status, worker_id in finished:
        assert job_status == "succeeded"
        assert worker_id in worker_ids[1:]
    assert all(p.returncode == 0 for p in workers[1:]), "survivors stop cleanly on SIGTERM"

    # Exactly one acknowledged message per subscriber, at the sink and in the ledger, except
    # those reported as unknown-outcome (at most one arrived for each of those).
    with pg.connect() as connection:
        ledger = dict(
            connection.execute(
                text(
                    "SELECT s.email, d.status FROM deliveries d "
                    "JOIN subscribers s ON s.id = d.subscriber_id"
                )
            ).all()
        )
    assert len(ledger) == SUBSCRIBERS
    outcomes = Counter(ledger.values())
    assert set(outcomes) <= {"sent", "unknown"}, outcomes
    for email, state in ledger.items():
        if state == "sent":
            assert counting.per_recipient[email] == 1, email
        else:
            assert counting.per_recipient[email] <= 1, email
    assert set(counting.per_recipient) <= set(ledger)
    # Unknown outcomes can only come from the dead worker's batches (messages it had claimed).
    with pg.connect() as connection:
        spans = connection.execute(
            text(
                "SELECT (args->>'after_id')::bigint, (args->>'up_to_id')::bigint "
                "FROM procrastinate_jobs WHERE id = ANY(:ids)"
            ),
            {"ids": list(orphaned)},
        ).all()
        unknown_ids = (
            connection.execute(
                text("SELECT subscriber_id FROM deliveries WHERE status = 'unknown'")
            )
            .scalars()
            .all()
        )
    for sid in unknown_ids:
        assert any(after < sid <= up_to for after, up_to in spans), sid
    assert f"{SUBSCRIBERS // 500} done" in status, status
    print(f"sent {outcomes['sent']}, unknown {outcomes['unknown']}; {os.cpu_count()} cores")
