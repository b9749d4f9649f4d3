"""Ranking speed: 100,000 subscribers x 1,000 papers, top ten each, default (lexical) ranker.

Papers are synthesised from the 288 sample papers (each recombines the title of one with sentences
of a few others, so vocabulary and statistics stay realistic). Subscribers get 1-5 topics drawn
from a Zipf-like distribution over phrases mined from the sample papers (frequent word pairs and
triples of their titles and abstracts), a few follow authors or mute a phrase, as people do.
With ``--with-examples SHARE`` that share of them also clicked "more / less like this" on 1-10
papers in the last 90 days (four in five "more"), half of the papers in this issue's pool and half
older ones (a pool of ``--older`` papers, the popular ones clicked by many).

    .venv/bin/python benchmarks/rank_scale.py [--subscribers N] [--papers N] [--with-examples 0.1]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sample_papers import NOW, load_sample_papers
from digest.ranking import RankedExample, build_ranker
from digest.ranking.text import tokens
from papercore.config import RankingSettings
from papercore.papers import Paper
from subscribers.model import Interest

PAGE = 500  # subscribers per page of the send loop
AUTHORS = [f"Author {chr(65 + i % 26)}{i}" for i in range(400)]


def synthetic_papers(samples: Sequence[Paper], count: int, rng: random.Random) -> list[Paper]:
    sentences = [s.strip() for p in samples for s in p.abstract.split(". ") if len(s) > 40]
    made = []
    for n in range(count):
        base = samples[n % len(samples)]
        abstract = ". ".join([*rng.sample(sentences, 3), base.abstract[:400]])
        made.append(
            replace(
                base,
                id=f"synthetic:{n}",
                title=base.title if n < len(samples) else f"{base.title} ({n})",
                abstract=abstract,
                authors=tuple(rng.sample(AUTHORS, rng.randint(1, 6))),
                upvotes=int(rng.paretovariate(1.2) * 3),
                comments=rng.randint(0, 12),
                posted_at=NOW - timedelta(hours=rng.uniform(0, 72)),
            )
        )
    return made


def topic_vocabulary(samples: Sequence[Paper], size: int = 3000) -> list[str]:
    """Frequent 2- and 3-word phrases of the sample papers, as people would type them."""
    counts: Counter[str] = Counter()
    raw = [(p.title + ". " + p.abstract).lower() for p in samples]
    stemmed = tokens(raw)
    for text, words in zip(raw, stemmed, strict=True):
        plain = [w.strip(".,;:()") for w in text.split()]
        for n in (2, 3):
            for i in range(len(plain) - n + 1):
                gram = plain[i : i + n]
                if all(w.isalpha() and len(w) > 2 for w in gram) and len(words) > 0:
                    counts[" ".join(gram)] += 1
    useful = [g for g, c in counts.most_common(size * 3) if len(tokens([g])[0]) == len(g.split())]
    return useful[:size]


def synthetic_subscribers(
    vocabulary: Sequence[str], count: int, rng: random.Random
) -> list[list[Interest]]:
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(vocabulary))]
    people = []
    for _ in range(count):
        picked = rng.choices(vocabulary, weights=weights, k=rng.randint(1, 5))
        interests = [Interest("topic", t) for t in dict.fromkeys(picked)]
        if rng.random() < 0.1:
            interests.append(Interest("author", rng.choice(AUTHORS)))
        if rng.random() < 0.05:
            interests.append(Interest("mute", rng.choice(vocabulary)))
        people.append(interests)
    return people


def synthetic_examples(
    pool: Sequence[Paper], older: Sequence[Paper], rng: random.Random
) -> list[RankedExample]:
    """1-10 clicks of the last 90 days, half on pool papers and half on older ones."""
    weights = [1 / (rank + 1) for rank in range(len(older))]
    found = []
    for _ in range(rng.randint(1, 10)):
        paper = rng.choice(pool) if rng.random() < 0.5 else rng.choices(older, weights)[0]
        vote = 1 if rng.random() < 0.8 else -1
        found.append(RankedExample(paper, vote, NOW - timedelta(days=rng.uniform(0, 90))))
    return found


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--with-examples", type=float, default=0.0, metavar="SHARE")
    parser.add_argument("--older", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    samples = load_sample_papers()
    papers = synthetic_papers(samples, args.papers, rng)
    vocabulary = topic_vocabulary(samples)
    people = synthetic_subscribers(vocabulary, args.subscribers, rng)
    made = synthetic_papers(samples, args.older, rng) if args.with_examples else []
    older = [
        replace(p, id=f"older:{k}", posted_at=NOW - timedelta(days=30)) for k, p in enumerate(made)
    ]
    clicks = [
        synthetic_examples(papers, older, rng) if rng.random() < args.with_examples else []
        for _ in people
    ]
    distinct = len({i.phrase for p in people for i in p if i.kind == "topic"})
    print(
        f"{len(papers)} papers, {len(people)} subscribers, {len(vocabulary)} phrases in the "
        f"vocabulary ({distinct} used), {sum(1 for c in clicks if c)} with examples "
        f"({sum(len(c) for c in clicks)} clicks, {len(older)} older papers)"
    )
    # CPU time of this process (one thread) is reported next to wall time: on a shared machine
    # the wall clock also counts other processes' turns.
    started, cpu_started = time.perf_counter(), time.process_time()
    ranker = build_ranker(papers, RankingSettings(semantic="off"), encoder=None)
    built, cpu_built = time.perf_counter(), time.process_time()
    picked = 0
    for start in range(0, len(people), PAGE):
        # as the send loop does for each page (PersonalDigests.prefetch_examples)
        ranker.prepare_examples([e.paper for c in clicks[start : start + PAGE] for e in c])
        for interests, examples in zip(
            people[start : start + PAGE], clicks[start : start + PAGE], strict=True
        ):
            picked += len(ranker.rank(interests, examples=examples, limit=10, now=NOW))
    done, cpu_done = time.perf_counter(), time.process_time()
    per_1000 = 1000 * (cpu_done - cpu_built) / len(people)
    print(f"index built in {built - started:.2f} s (cpu {cpu_built - cpu_started:.2f} s)")
    print(
        f"ranked {len(people)} subscribers in {done - built:.2f} s wall, "
        f"{cpu_done - cpu_built:.2f} s cpu ({per_1000:.3f} s cpu per 1,000 subscribers), "
        f"{picked / len(people):.1f} picks each"
    )
    print(
        f"total {done - started:.2f} s wall, {cpu_done - cpu_started:.2f} s cpu; "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
