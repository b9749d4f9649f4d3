"""The procrastinate backend against the machine's PostgreSQL: schema, batch jobs written in the
issue's transaction, queueing locks, workers sending through the ledger, stalled batches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, text

from digest.issues import Issue, find_issue
from digest.queue.batches import Batch, cut
from digest.queue.dispatch import QueueSender, defer_batches, hand_over, prune_finished_jobs
from digest.queue.jobs import apply_schema, conninfo
from digest.queue.status import queue_status
from digest.queue.worker import work
from digest.schedule.due import IssueKey
from digest.sending import outbox
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings, load_settings
from papercore.db.engine import make_engine, transaction
from subscribers import store
from tests.integration.sending.support import SimpleFactory, ledger_rows

pytestmark = pytest.mark.postgres
KEY = IssueKey(date(2026, 11, 21), "daily")


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    """The session's PostgreSQL database, emptied, with procrastinate's schema and no jobs."""
    apply_schema(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE subscribers, issues, deliveries, pacing_state, procrastinate_jobs, "
                "procrastinate_workers RESTART IDENTITY CASCADE"
            )
        )
    yield engine
    engine.dispose()


def queue_settings(url: str, **queue: object) -> Settings:
    return load_settings(
        None,
        database={"url": url},
        queue={"backend": "procrastinate", "batch_size": 10, "heartbeat_seconds": 0.2, **queue},
        smtp={"pool_size": 2},
        web={"secret_key": "test-secret-key-0123456789abcdef0123456789"},
    )


def add_people(engine: Engine, now: datetime, n: int) -> list[int]:
    with transaction(engine) as connection:
        return [
            store.add(connection, f"p{i}@d{i % 3}.example", now, status="active", topics=["x"])
            for i in range(n)
        ]


def jobs(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT queueing_lock, lock, status::text FROM procrastinate_jobs ORDER BY id")
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_conninfo_turns_the_sqlalchemy_url_into_libpq_terms() -> None:
    assert conninfo("postgresql+psycopg://u:p%40ss@db.example:6543/digest?sslmode=require") == (
        "host=db.example port=6543 user=u password=p@ss dbname=digest sslmode=require"
    )


def test_applying_the_schema_twice_is_harmless(postgres_url: str) -> None:
    apply_schema(postgres_url)
    assert apply_schema(postgres_url) is False


def test_batches_are_cut_at_fixed_blocks_of_ids() -> None:
    assert [(b.after_id, b.up_to_id) for b in cut(7, [(3, 25)], 10)] == [
        (3, 10),
        (10, 20),
        (20, 25),
    ]
    first, second = cut(7, [(3, 10)], 10)[0], cut(7, [(5, 8)], 10)[0]
    assert first.key != second.key and first.lock == second.lock  # never run at the same time


def test_jobs_are_written_in_the_issue_transaction(pg: Engine, now: datetime) -> None:
    ids = add_people(pg, now, 25)
    with pytest.raises(RuntimeError), transaction(pg) as connection:
        defer_batches(connection, cut(1, [(0, ids[-1])], 10))
        assert len(jobs(pg)) == 0  # not visible outside the transaction yet
        raise RuntimeError("the scheduler dies before committing")
    assert jobs(pg) == []
    queued = hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    assert len(queued) == 3
    with pg.connect() as connection:
        issue = find_issue(connection, KEY.issue_date, KEY.frequency)
    assert issue is not None
    assert {s for s, _, _ in ledger_rows(pg, issue.id).values()} == {"pending"}
    assert len(ledger_rows(pg, issue.id)) == 25


def test_a_waiting_batch_is_never_queued_twice(pg: Engine, now: datetime) -> None:
    ids = add_people(pg, now, 25)
    sender = QueueSender(pg, batch_size=10, keep_finished=timedelta(days=14))
    for _ in range(3):
        asyncio.run(sender.send(KEY, [(0, ids[-1])], now, lambda: False))
    assert [status for _, _, status in jobs(pg)] == ["todo"] * 3
    assert len({key for key, _, _ in jobs(pg)}) == 3


def test_finished_jobs_are_pruned_after_the_keep_period(pg: Engine, now: datetime) -> None:
    ids = add_people(pg, now, 30)
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    with pg.begin() as connection:
        first, second, _third = connection.execute(
            text("SELECT id FROM procrastinate_jobs ORDER BY id")
        ).scalars()
        for job_id, days_ago in ((first, 20), (second, 2)):
            for status in ("doing", "succeeded"):
                connection.execute(
                    text("UPDATE procrastinate_jobs SET status = :s WHERE id = :id"),
                    {"s": status, "id": job_id},
                )
            connection.execute(
                text("UPDATE procrastinate_events SET at = :at WHERE job_id = :id"),
                {"at": now - timedelta(days=days_ago), "id": job_id},
            )
    assert prune_finished_jobs(pg, timedelta(days=14), now) == 1  # only the old finished one
    left = jobs(pg)
    assert len(left) == 2 and sorted(status for _, _, status in left) == ["succeeded", "todo"]
    assert prune_finished_jobs(pg, timedelta(days=14), now) == 0


@dataclass
class Counting:
    """A factory maker that counts how often an issue's factory is built."""

    built: int = 0

    def __call__(self, engine: Engine, settings: Settings, issue: Issue, now: datetime) -> object:
        self.built += 1
        return SimpleFactory(issue.id, now)


def test_workers_send_every_batch_once_through_the_ledger(
    pg: Engine, postgres_url: str, now: datetime
) -> None:
    ids = add_people(pg, now, 45)
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    settings = queue_settings(postgres_url)
    transport = RecordingTransport()
    maker = Counting()

    async def two_workers() -> None:
        await asyncio.gather(
            *(
                work(settings, pg, until_empty=True, transport=transport, make_factory=maker)  # type: ignore[arg-type]
                for _ in range(2)
            )
        )

    asyncio.run(two_workers())
    recipients = [s.recipient for s in transport.sent]
    assert sorted(recipients) == sorted({f"p{i}@d{i % 3}.example" for i in range(45)})
    with pg.connect() as connection:
        issue = find_issue(connection, KEY.issue_date, KEY.frequency)
    assert issue is not None
    assert {s for s, _, _ in ledger_rows(pg, issue.id).values()} == {"sent"}
    status = queue_status(pg, 30)
    assert status is not None and status.batches["done"] == 5 and status.batches["queued"] == 0
    # Handing the same subscribers over again sends nothing more.
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    asyncio.run(work(settings, pg, until_empty=True, transport=transport, make_factory=maker))  # type: ignore[arg-type]
    assert len(transport.sent) == 45


def test_the_batches_of_a_dead_worker_are_queued_again(
    pg: Engine, postgres_url: str, now: datetime
) -> None:
    from procrastinate.jobs import Status

    from digest.queue.jobs import make_app
    from digest.queue.worker import retry_stalled

    ids = add_people(pg, now, 5)
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    info = conninfo(postgres_url)
    with psycopg.connect(info, autocommit=True) as connection:
        # A worker that took the batch, marked one message as leaving, then went silent.
        dead = connection.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (NOW() - interval '1 hour') RETURNING id"
        ).fetchone()
        assert dead is not None
        connection.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", (dead[0],)
        )
        connection.execute(
            "UPDATE deliveries SET status = 'sending' WHERE subscriber_id = %s", (ids[0],)
        )

    async def recover() -> int:
        app = make_app(postgres_url)
        async with app.open_async():
            returned = await retry_stalled(app, 30)
            (job,) = await app.job_manager.list_jobs_async()
            assert job.status == Status.TODO.value
            return returned

    assert asyncio.run(recover()) == 1
    transport = RecordingTransport()
    settings = queue_settings(postgres_url)
    asyncio.run(work(settings, pg, until_empty=True, transport=transport, make_factory=Counting()))  # type: ignore[arg-type]
    with pg.connect() as connection:
        issue = find_issue(connection, KEY.issue_date, KEY.frequency)
    assert issue is not None
    rows = ledger_rows(pg, issue.id)
    assert rows[ids[0]][0] == "unknown"  # it may have arrived: reported, not resent
    assert {rows[i][0] for i in ids[1:]} == {"sent"}
    assert len(transport.sent) == 4


def test_batch_keys_name_the_issue_and_range() -> None:
    batch = Batch(3, 500, 1000, 500)
    assert batch.key == "digest:issue:3:ids:500-1000"
    assert batch.lock == "digest:issue:3:block:500-1000"


def test_a_deferred_message_queues_the_batch_again_for_its_retry(
    pg: Engine, postgres_url: str, now: datetime
) -> None:
    from digest.sending.transports import Reply

    ids = add_people(pg, now, 3)
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)

    def greylist(recipient: str, attempt: int) -> Reply:
        return Reply(451, "4.7.1 try later") if recipient.startswith("p0@") else Reply(250, "ok")

    transport = RecordingTransport(script=greylist)
    settings = queue_settings(postgres_url)
    asyncio.run(work(settings, pg, until_empty=True, transport=transport, make_factory=Counting()))  # type: ignore[arg-type]
    assert len(transport.sent) == 2
    with pg.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE status = 'todo' AND scheduled_at > NOW()"
            )
        ).scalar()
        issue = find_issue(connection, KEY.issue_date, KEY.frequency)
    assert waiting == 1  # the worker did not sit waiting for the retry
    assert issue is not None and issue.status == "sending"


def test_a_policy_refusal_pauses_the_issue_and_fails_the_batch(
    pg: Engine, postgres_url: str, now: datetime
) -> None:
    from digest.sending.transports import Reply

    ids = add_people(pg, now, 3)
    hand_over(pg, KEY, [(0, ids[-1])], 10, now)
    transport = RecordingTransport(script=lambda r, a: Reply(550, "5.7.1 DKIM policy"))
    settings = queue_settings(postgres_url)
    asyncio.run(work(settings, pg, until_empty=True, transport=transport, make_factory=Counting()))  # type: ignore[arg-type]
    with pg.connect() as connection:
        issue = find_issue(connection, KEY.issue_date, KEY.frequency)
    assert issue is not None and issue.status == "paused" and "policy" in (issue.pause_reason or "")
    status = queue_status(pg, 30)
    assert status is not None and status.batches["failed"] == 1


def test_a_worker_sends_the_notices_waiting_in_the_outbox(pg: Engine, postgres_url: str) -> None:
    now = datetime.now(UTC)
    with transaction(pg) as connection:
        connection.execute(text("TRUNCATE outbox RESTART IDENTITY"))
        outbox.enqueue(
            connection, "confirm", "new@example.org", {"confirm": "https://x.example/c/t"}, {}, now
        )
    transport = RecordingTransport()
    asyncio.run(work(queue_settings(postgres_url), pg, until_empty=True, transport=transport))
    assert [s.recipient for s in transport.sent] == ["new@example.org"]
    with pg.connect() as connection:
        assert outbox.counts(connection)["sent"] == 1
