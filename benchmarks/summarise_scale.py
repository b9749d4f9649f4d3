"""Summariser scale benchmark: the time of one ``summarise`` call against the abstract's size,
for the shapes that were slow (issue 22: "A. " repeated was quadratic) and ordinary ones.

    .venv/bin/python benchmarks/summarise_scale.py [--max-seconds 20]

Prints one row per size and a column per shape (seconds for one call). A shape stops growing
once a call takes longer than --max-seconds (the quadratic code took a minute at 90 KB). The
budget (tests/unit/compose/test_summary_budget.py) is 50 ms at 100 KB.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from digest.compose.summary import summarise

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
SENTENCE = "We propose a method that improves accuracy on three benchmarks. "
SHAPES: dict[str, Callable[[int], str]] = {
    "A. repeated": lambda n: ("A. " * (n // 3 + 1))[:n],
    "no spaces": lambda n: "a" * n,
    "one sentence": lambda n: ("word " * (n // 5 + 1))[:n],
    "short sentences": lambda n: (SENTENCE * (n // len(SENTENCE) + 1))[:n],
    "e.g. repeated": lambda n: ("e.g. " * (n // 5 + 1))[:n],
    "we repeated": lambda n: ("we " * (n // 3 + 1))[:n],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-seconds", type=float, default=20.0)
    args = parser.parse_args()
    summarise("Warm up. We propose nothing at all here.")
    print(f"{'size':>10} " + " ".join(f"{name:>16}" for name in SHAPES))
    stopped: set[str] = set()
    for size in SIZES:
        cells = []
        for name, make in SHAPES.items():
            if name in stopped:
                cells.append(f"{'-':>16}")
                continue
            text = make(size)
            start = time.perf_counter()
            summarise(text)
            took = time.perf_counter() - start
            cells.append(f"{took:>15.4f}s")
            if took > args.max_seconds:
                stopped.add(name)
        print(f"{size:>10} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
