"""Send benchmark: N subscribers, 10 papers each, ranked, rendered and delivered over SMTP to
Postfix's smtp-sink on loopback, against Postfix's smtp-source sending as many messages of the
same size over the same number of connections. Prints both rates, their ratio and our peak RSS.

    .venv/bin/python benchmarks/send.py                      # 100,000 subscribers
    .venv/bin/python benchmarks/send.py --subscribers 20000 --processes 2 --pool 8
    .venv/bin/python benchmarks/send.py --subscribers 20000 --via-cli

``--via-cli`` times the command users run: ``digest send`` in a subprocess with the default
settings (processes and pool unless given), start-up, ranking index and settling included, and
compares it with smtp-source over as many connections as it reports having used.

Targets (issue 5): ≥ 1,000 messages/s end to end, peak RSS < 500 MB, ratio ≥ 0.25; (issue 17)
``digest send`` at defaults ≥ 0.3 at 20,000 subscribers, peak RSS < 500 MB at 100,000.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from digest.ingest import ingest_locations, sample_pages
from digest.sending import lifecycle
from digest.sending.service import send_issue
from papercore.config import load_settings
from papercore.db.engine import make_engine, migrate, transaction
from papercore.db.schema import deliveries, interests, subscribers

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
DIGEST = str(Path(sys.executable).parent / "digest")
TOPICS = [
    "language models",
    "diffusion models",
    "reinforcement learning",
    "graph neural networks",
    "image classification",
    "video generation",
    "speech recognition",
    "robotics",
    "model compression",
    "quantization",
    "knowledge distillation",
    "reasoning",
    "retrieval augmented generation",
    "multimodal learning",
    "optimization",
    "transformers",
    "federated learning",
    "neural architecture search",
    "object detection",
    "segmentation",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink(port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        [SMTP_SINK, "-u", "nobody", "-c", f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    raise SystemExit("smtp-sink did not start")


def add_subscribers(engine: object, count: int, now: datetime) -> None:
    rng = random.Random(5)
    chunk = 5000
    with transaction(engine) as connection:  # type: ignore[arg-type]
        for start in range(0, count, chunk):
            rows = [
                {
                    "id": i + 1,
                    "email": f"reader{i}@d{i % 97}.example.org",
                    "name": "",
                    "status": "active",
                    "frequency": "daily",
                    "weekday": 0,
                    "hour": 8,
                    "timezone": "UTC",
                    "token_version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                }
                for i in range(start, min(count, start + chunk))
            ]
            connection.execute(insert(subscribers), rows)
            topic_rows = [
                {"subscriber_id": row["id"], "kind": "topic", "phrase": phrase, "weight": 1.0}
                for row in rows
                for phrase in rng.sample(TOPICS, rng.randint(1, 3))
            ]
            connection.execute(insert(interests), topic_rows)


def peak_rss_mb() -> tuple[float, float]:
    """(this process, the largest waited-for child) peak RSS in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def send_via_cli(
    workdir: Path, settings_env: dict[str, str], day: str
) -> tuple[float, int, int, str]:
    """Run ``digest send`` as a user would; (wall seconds, processes, connections, its output).
    Processes and connections are read from its summary (1 × pool when it does not say)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")} | settings_env
    usage = subprocess.run([DIGEST, "send", "--help"], env=env, capture_output=True, text=True)
    dev = ["--dev"] if "--dev" in usage.stdout else []  # refuses loopback relays without it
    started = time.perf_counter()
    done = subprocess.run(
        [DIGEST, "send", *dev, "--date", day],
        cwd=workdir,
        env=env | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"digest send failed ({done.returncode}):\n{output}")
    used = re.search(r"sent by (\d+) process(?:es)? over (\d+) SMTP connections", output)
    if used:
        return wall, int(used[1]), int(used[2]), output
    pool = int(settings_env.get("DIGEST_SMTP__POOL_SIZE", "4"))
    processes = int(settings_env.get("DIGEST_SENDING__PROCESSES", "1"))
    return wall, processes, processes * pool, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="default: 2, or the default config with --via-cli",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=None,
        help="SMTP connections per process (default: 8, or the default config with --via-cli)",
    )
    parser.add_argument(
        "--via-cli", action="store_true", help="time `digest send` itself, in a subprocess"
    )
    parser.add_argument("--semantic", default="off", choices=["off", "auto", "on"])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    for tool in (SMTP_SINK, SMTP_SOURCE):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} is missing: apt-get install postfix")

    workdir = Path(tempfile.mkdtemp(prefix="digest-send-bench-"))
    now = datetime.now(UTC)
    port = free_port()
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    smtp: dict[str, object] = {"host": "127.0.0.1", "port": port, "timeout": 30}
    sending: dict[str, object] = {"per_domain_connections": 3}
    if args.pool or not args.via_cli:
        smtp["pool_size"] = args.pool or 8
    if args.processes or not args.via_cli:
        sending["processes"] = args.processes or 2
    settings = load_settings(
        None,
        app={"data_dir": workdir / "data", "base_url": "https://digest.example.org"},
        database={"url": url},
        web={"secret_key": "benchmark-secret-key-0123456789abcdef"},
        smtp=smtp,
        sending=sending,
        ranking={"semantic": args.semantic, "picks": 10},
    )
    cli_env = {
        "DIGEST_APP__DATA_DIR": str(workdir / "data"),
        "DIGEST_APP__BASE_URL": "https://digest.example.org",
        "DIGEST_DATABASE__URL": url,
        "DIGEST_WEB__SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
        "DIGEST_RANKING__SEMANTIC": args.semantic,
        "DIGEST_RANKING__PICKS": "10",
    } | {f"DIGEST_SMTP__{k.upper()}": str(v) for k, v in smtp.items()}
    cli_env |= {f"DIGEST_SENDING__{k.upper()}": str(v) for k, v in sending.items()}
    engine = make_engine(settings.database_url)
    migrate(engine)
    pages = [str(p) for p in sample_pages()]
    ingest_locations(engine, pages, "auto", settings.sources, now)
    started = time.perf_counter()
    add_subscribers(engine, args.subscribers, now)
    overrides = [f"{k}={v}" for k, v in cli_env.items() if "PROCESSES" in k or "POOL" in k]
    how = (
        f"`digest send` in a subprocess ({', '.join(overrides) or 'default processes and pool'})"
        if args.via_cli
        else f"in-process send_issue, {settings.sending.processes} processes × "
        f"{settings.smtp.pool_size} connections"
    )
    print(
        f"setup: {args.subscribers:,} subscribers in {time.perf_counter() - started:.1f} s "
        f"({settings.database_url.split(':')[0]}); {how}",
        flush=True,
    )

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sink = start_sink(port)
    try:
        engine.dispose()
        if args.via_cli:
            ours, processes, connections, output = send_via_cli(
                workdir, cli_env, now.date().isoformat()
            )
            with engine.connect() as connection:
                issue_id = connection.execute(select(func.max(deliveries.c.issue_id))).scalar_one()
            paused = None if "paused" not in output else output.strip().splitlines()[-1]
        else:
            issue = lifecycle.open_for(engine, now.date(), "daily", now)
            engine.dispose()
            started = time.perf_counter()
            report = send_issue(engine, settings, issue, now)
            ours = time.perf_counter() - started
            issue_id, paused = issue.id, report.paused
            processes = report.processes or int(settings.sending.processes)  # type: ignore[arg-type]
            connections = report.connections or processes * settings.smtp.pool_size
        own_rss, child_rss = peak_rss_mb()
        with engine.connect() as connection:
            sizes = connection.execute(
                select(func.avg(deliveries.c.size_bytes), func.count()).where(
                    deliveries.c.issue_id == issue_id, deliveries.c.status == "sent"
                )
            ).one()
            totals = dict(
                connection.execute(
                    select(deliveries.c.status, func.count())
                    .where(deliveries.c.issue_id == issue_id)
                    .group_by(deliveries.c.status)
                ).all()
            )
        mean_size, sent = int(sizes[0] or 0), int(sizes[1])
        started = time.perf_counter()
        subprocess.run(
            [
                SMTP_SOURCE,
                "-d",
                "-N",
                "-s",
                str(connections),
                "-m",
                str(sent),
                "-l",
                str(mean_size),
                "-f",
                "digest@example.org",
                "-t",
                "reader@example.org",
                f"127.0.0.1:{port}",
            ],
            check=True,
        )
        theirs = time.perf_counter() - started
    finally:
        sink.terminate()
        sink.wait()
        engine.dispose()
    if paused:
        print(f"PAUSED: {paused}")
    our_rate = sent / ours
    their_rate = sent / theirs
    what = "`digest send` start to exit" if args.via_cli else "ranked, rendered, ledgered, sent"
    print(
        f"ours:        {sent:,} messages ({mean_size / 1024:.1f} KB mean) in {ours:.1f} s "
        f"= {our_rate:,.0f} msg/s ({what}; {processes} processes, {connections} connections)"
    )
    print(
        f"smtp-source: {sent:,} messages of {mean_size / 1024:.1f} KB over {connections} "
        f"connections in {theirs:.1f} s = {their_rate:,.0f} msg/s"
    )
    print(f"ratio:       {our_rate / their_rate:.2f}")
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"load:        {load_before} before, {load_after} after (1, 5, 15 min averages; "
        f"{os.cpu_count()} cores)"
    )
    largest = "largest `digest send` process" if args.via_cli else "largest worker process"
    print(f"peak RSS:    parent {own_rss:.0f} MB, {largest} {child_rss:.0f} MB")
    print(f"ledger:      {totals}")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
