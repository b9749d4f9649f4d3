"""Signup timing benchmark (issue 15): can the response time tell a new address from a subscribed
one? Serves the app under uvicorn on loopback (SQLite, notices to a recording transport), then
sends the signup form 40 times each, alternating, for new addresses and for active subscribers,
and prints the median response time of each and their ratio.

    .venv/bin/python benchmarks/signup_timing.py
    .venv/bin/python benchmarks/signup_timing.py --tries 100

Target: a ratio close to 1 (the issue found 7.6 vs 6.0 ms, 1.27).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import httpx

from digest.sending.transports.recording import RecordingTransport
from digest.web.server import make_server
from papercore.config import load_settings
from papercore.db.engine import make_engine, migrate, transaction
from subscribers import store

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=40, help="signups of each kind (40)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        new, known = measure(Path(folder), args.tries)
    new_ms, known_ms = statistics.median(new) * 1000, statistics.median(known) * 1000
    print(f"signup, new address:        median {new_ms:.2f} ms over {len(new)} tries")
    print(f"signup, subscribed address: median {known_ms:.2f} ms over {len(known)} tries")
    print(f"ratio new/subscribed: {new_ms / known_ms:.2f}")


def measure(folder: Path, tries: int) -> tuple[list[float], list[float]]:
    settings = load_settings(
        database={"url": f"sqlite:///{folder / 'digest.sqlite3'}"},
        app={"data_dir": str(folder / "data")},
        web={
            "secret_key": "benchmark-secret-0123456789abcdef",
            "signup_min_seconds": 0,
            "signup_per_ip_per_hour": 100_000,
            "signup_per_address_per_day": 100_000,
        },
    )
    engine = make_engine(settings.database.url)
    migrate(engine)
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        for i in range(tries):
            store.add(connection, f"known{i}@example.org", now, topics=["graphs"], status="active")
    server = make_server(
        settings, engine, dev=True, port=0, transport=RecordingTransport(), own_logging=False
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
    thread.start()
    new: list[float] = []
    known: list[float] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as browser:
            while not _up(browser):
                time.sleep(0.05)
            for i in range(-3, tries):  # 3 warm-up rounds, not counted
                pairs = ((f"new{i}@example.org", new), (f"known{i}@example.org", known))
                for email, times in pairs:
                    took = _signup(browser, email)
                    if i >= 0:
                        times.append(took)
    finally:
        server.stop()
        thread.join(timeout=30)
        engine.dispose()
    return new, known


def _up(browser: httpx.Client) -> bool:
    try:
        return browser.get("/").status_code == 200
    except httpx.TransportError:
        return False


def _signup(browser: httpx.Client, email: str) -> float:
    """Seconds the signup POST took (the form is fetched first, untimed)."""
    fields = {k: unescape(v) for k, v in HIDDEN.findall(browser.get("/").text)}
    data = fields | {
        "email": email,
        "topics": "graph neural networks\ndiffusion models",
        "frequency": "daily",
        "weekday": "0",
        "hour": "7",
        "timezone": "UTC",
    }
    started = time.perf_counter()
    answer = browser.post("/", data=data)
    took = time.perf_counter() - started
    if answer.status_code != 200 or "Check your inbox" not in answer.text:
        sys.exit(f"signup of {email} answered {answer.status_code}")
    return took


if __name__ == "__main__":
    main()
