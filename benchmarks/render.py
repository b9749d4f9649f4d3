"""Render benchmark: complete personalised messages (HTML + text + MIME bytes with every header,
signed links included) for many subscribers, on one core.

    .venv/bin/python benchmarks/render.py [--subscribers 10000] [--papers 10] [--pool 200]

Prints messages per second and the peak resident memory. The target is >= 2,000 messages/s.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import UTC, date, datetime

from digest.compose import Composer, IssueInfo
from digest.ranking import Pick
from papercore.config import Settings
from papercore.papers import Paper
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from subscribers.tokens import Signer

WORDS = [
    "graph",
    "neural",
    "network",
    "transformer",
    "attention",
    "diffusion",
    "model",
    "retrieval",
    "augmented",
    "language",
    "reinforcement",
    "learning",
    "policy",
    "gradient",
    "sparse",
    "mixture",
    "experts",
    "vision",
    "benchmark",
    "dataset",
    "scaling",
    "law",
    "optimisation",
    "convergence",
    "robustness",
    "adversarial",
    "federated",
    "privacy",
]


def make_papers(count: int, rng: random.Random) -> list[Paper]:
    papers = []
    for i in range(count):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 220)))
        authors = tuple(f"Author{j} Surname{i}" for j in range(rng.randint(1, 12)))
        papers.append(
            Paper(
                id=f"2611.{i:05d}",
                title=title,
                abstract=abstract.capitalize() + ".",
                authors=authors,
                published=date(2026, 11, 20),
                upvotes=rng.randint(0, 300),
                comments=rng.randint(0, 20),
                code_url=f"https://github.com/lab{i}/code" if i % 3 == 0 else None,
            )
        )
    return papers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=10, help="papers per message")
    parser.add_argument("--pool", type=int, default=200, help="candidate papers in the issue")
    args = parser.parse_args(argv)

    rng = random.Random(42)
    settings = Settings(
        app={"base_url": "https://digest.example.org"},
        web={"secret_key": "benchmark-secret-0123456789abcdef"},
    )
    now = datetime(2026, 11, 21, 8, tzinfo=UTC)
    papers = make_papers(args.pool, rng)
    signer = Signer(settings.web.secret_key.get_secret_value())
    subscribers = [
        Subscriber(id=i, email=f"reader{i}@example.com") for i in range(args.subscribers)
    ]
    reasons = ["matches: graph neural networks", "trending: 120 upvotes", "author you follow"]
    picks = [
        [
            Pick(p, 1.0, 0.5, tuple(rng.sample(reasons, rng.randint(0, 2))))
            for p in rng.sample(papers, args.papers)
        ]
        for _ in range(min(args.subscribers, 500))
    ]

    started = time.perf_counter()
    composer = Composer(settings)
    issue = composer.prepare(IssueInfo(42, date(2026, 11, 21), "daily"), papers)
    prepared = time.perf_counter() - started

    total_bytes = html_max = 0
    started = time.perf_counter()
    for subscriber in subscribers:
        links = SubscriberLinks(
            settings.app.base_url, signer, subscriber.id, subscriber.token_version, 42, now
        )
        message = issue.message(subscriber, picks[subscriber.id % len(picks)], links)
        total_bytes += len(message.data)
        html_max = max(html_max, len(message.html.encode("utf-8")))
    elapsed = time.perf_counter() - started

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    n = len(subscribers)
    print(f"prepared issue ({args.pool} papers): {prepared * 1000:.0f} ms")
    print(f"messages: {n} x {args.papers} papers in {elapsed:.2f} s")
    print(f"messages/second: {n / elapsed:,.0f}")
    print(f"per message: {elapsed / n * 1e6:.0f} us, {total_bytes / n / 1024:.1f} KB average")
    print(f"largest HTML part: {html_max / 1024:.1f} KB")
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
