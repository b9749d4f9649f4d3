"""Scale-out benchmark: one issue queued as batch jobs on PostgreSQL and sent by 1, 2 and 4
`digest worker` processes to Postfix's smtp-sink on loopback, and by the in-process sender
(`digest send`, one process, as many connections) in the same run. Prints each run's throughput,
the scaling ratio against one worker and one worker's rate against the in-process sender's.

    .venv/bin/python benchmarks/scale.py                          # 8,000 subscribers
    .venv/bin/python benchmarks/scale.py --subscribers 20000 --workers 1 2 4 8
    .venv/bin/python benchmarks/scale.py --workers 1 --profile /tmp/prof   # pyinstrument reports

Targets (issue 17): one worker >= 0.7x the in-process sender, two workers >= 1.7x one.

Needs PostgreSQL (--postgres, default the local server) and /usr/sbin/smtp-sink (Debian postfix).
A database of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from papercore.db.engine import make_engine
from papercore.db.schema import interests, subscribers

SMTP_SINK = "/usr/sbin/smtp-sink"
DIGEST = str(Path(sys.executable).parent / "digest")
SAMPLES = Path(__file__).resolve().parent.parent / "digest" / "sample_data"
TOPICS = (
    "language models",
    "diffusion models",
    "reinforcement learning",
    "graph neural networks",
    "image classification",
    "speech recognition",
    "robotics",
    "optimization",
)
ISSUE = date(2026, 11, 23)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_subscribers(url: str, n: int, domains: int) -> None:
    engine = make_engine(url)
    confirmed = datetime.now(UTC) - timedelta(days=2)
    with engine.begin() as connection:
        for start in range(0, n, 5000):
            connection.execute(
                insert(subscribers),
                [
                    {
                        "email": f"reader{i}@host{i % domains}.example",
                        "name": "",
                        "status": "active",
                        "frequency": "daily",
                        "weekday": 0,
                        "hour": 8,
                        "timezone": "UTC",
                        "token_version": 1,
                        "created_at": confirmed,
                        "updated_at": confirmed,
                        "confirmed_at": confirmed,
                    }
                    for i in range(start, min(n, start + 5000))
                ],
            )
        ids = connection.execute(text("SELECT id FROM subscribers ORDER BY id")).scalars().all()
        connection.execute(
            insert(interests),
            [
                {"subscriber_id": sid, "kind": "topic", "phrase": TOPICS[k % len(TOPICS)]}
                for k, sid in enumerate(ids)
            ],
        )
    engine.dispose()


def reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE deliveries, delivered_papers, issues, pacing_state, procrastinate_jobs, "
                "procrastinate_workers RESTART IDENTITY CASCADE"
            )
        )
        # Sending stamps last_digest_at; each run must find every subscriber due again.
        connection.execute(text("UPDATE subscribers SET last_digest_at = NULL"))
    engine.dispose()


def sending_span(url: str) -> tuple[int, float]:
    """Messages sent and the seconds from the first to the last acknowledgement."""
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT count(*), EXTRACT(EPOCH FROM max(sent_at) - min(sent_at)) "
                "FROM deliveries WHERE status = 'sent'"
            )
        ).one()
    engine.dispose()
    return int(row[0]), float(row[1] or 0.0)


def profiled(command: list[str], profile: Path | None, name: str) -> list[str]:
    """``command`` run under pyinstrument (a text report in ``profile``/``name``.txt) when asked."""
    if profile is None:
        return command
    report = profile / f"{name}.txt"
    return [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(report), *command]


def run_in_process(env: dict[str, str], workdir: Path, profile: Path | None) -> float:
    """`digest send` the issue in one process (the in-process sender); wall seconds."""
    usage = subprocess.run([DIGEST, "send", "--help"], env=env, capture_output=True, text=True)
    dev = ["--dev"] if "--dev" in usage.stdout else []  # refuses loopback relays without it
    started = time.monotonic()
    subprocess.run(
        profiled([DIGEST, "send", *dev, "--date", ISSUE.isoformat()], profile, "in-process"),
        cwd=workdir,
        env=env | {"DIGEST_SENDING__PROCESSES": "1"},
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def run_workers(env: dict[str, str], workdir: Path, n: int, profile: Path | None = None) -> float:
    """Queue the issue, start ``n`` workers that exit when the queue is empty; wall seconds."""
    queued = subprocess.run(
        [DIGEST, "enqueue", "--date", ISSUE.isoformat()],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    if queued.returncode != 0:
        sys.exit(f"digest enqueue failed ({queued.returncode}): {queued.stderr.strip()}")
    usage = subprocess.run([DIGEST, "worker", "--help"], env=env, capture_output=True, text=True)
    dev = ["--dev"] if "--dev" in usage.stdout else []
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            profiled(
                [DIGEST, "worker", *dev, "--until-empty", "--name", f"bench{k}"],
                profile,
                f"workers{n}-{k}",
            ),
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in range(n)
    ]
    for worker in workers:
        worker.wait()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=8000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--pool", type=int, default=4, help="SMTP connections per worker")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="PostgreSQL synchronous_commit for the benchmark database (off: no WAL flush wait)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="write a pyinstrument report per process here"
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if not Path(SMTP_SINK).exists():
        sys.exit(f"{SMTP_SINK} is missing: apt-get install postfix")

    name = f"digest_bench_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(
            text(f'ALTER DATABASE "{name}" SET synchronous_commit = {args.synchronous_commit}')
        )
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    port = free_port()
    sink = subprocess.Popen(
        [SMTP_SINK, "-u", "nobody", "-c", f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")} | {
                "DIGEST_DATABASE__URL": url,
                "DIGEST_APP__DATA_DIR": str(workdir / "data"),
                "DIGEST_WEB__SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                "DIGEST_QUEUE__BACKEND": "procrastinate",
                "DIGEST_QUEUE__BATCH_SIZE": str(args.batch_size),
                "DIGEST_SMTP__PORT": str(port),
                "DIGEST_SMTP__POOL_SIZE": str(args.pool),
                "DIGEST_RANKING__SEMANTIC": "off",
                "DIGEST_RANKING__RELEVANCE_FLOOR": "0",
            }
            subprocess.run([DIGEST, "init"], cwd=workdir, env=env, check=True, capture_output=True)
            subprocess.run(
                [DIGEST, "ingest", *map(str, sorted(SAMPLES.glob("*.txt")))],
                cwd=workdir,
                env=env,
                check=True,
                capture_output=True,
            )
            add_subscribers(url, args.subscribers, args.domains)
            print(
                f"{args.subscribers} subscribers on {args.domains} domains, batches of "
                f"{args.batch_size}, {args.pool} SMTP connections per worker, "
                f"{os.cpu_count()} CPU cores, PostgreSQL (synchronous_commit="
                f"{args.synchronous_commit}) + smtp-sink on loopback"
            )
            print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
            print("workers    sent   wall s   send s    msg/s  ratio")
            reset(url)
            wall = run_in_process(env, workdir, args.profile)
            sent, span = sending_span(url)
            in_process = sent / span if span > 0 else 0.0
            print(f"{'send':>7}  {sent:>6}  {wall:>7.1f}  {span:>7.1f}  {in_process:>7.0f}      -")
            rates: dict[int, float] = {}
            for n in args.workers:
                reset(url)
                wall = run_workers(env, workdir, n, args.profile)
                sent, span = sending_span(url)
                rates[n] = rate = sent / span if span > 0 else 0.0
                base = rates[args.workers[0]]
                print(
                    f"{n:>7}  {sent:>6}  {wall:>7.1f}  {span:>7.1f}  {rate:>7.0f}  "
                    f"{rate / base if base else 0:>5.2f}"
                )
            print("send: `digest send` in one process (the in-process sender), same connections;")
            print("msg/s: messages acknowledged / seconds from the first to the last one;")
            print("ratio: that rate against the first worker count's; wall s includes start-up.")
            if 1 in rates and in_process:
                print(
                    f"one worker / in-process sender: {rates[1] / in_process:.2f} (target >= 0.7)"
                )
            if 1 in rates and 2 in rates and rates[1]:
                print(f"two workers / one worker:       {rates[2] / rates[1]:.2f} (target >= 1.7)")
            print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    finally:
        sink.terminate()
        sink.wait()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
