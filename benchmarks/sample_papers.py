"""The sample papers of tests/fixtures (288 distinct papers), parsed as ingestion would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digest.sources import parse
from digest.sources.fetch import read
from papercore.papers import Paper, merge

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def load_sample_papers(now: datetime = NOW) -> list[Paper]:
    """Every distinct paper on the five sample pages, merged by normalised title."""
    by_key: dict[str, Paper] = {}
    for page in sorted(FIXTURES.glob("0*.txt")):
        document = read(str(page), max_bytes=50_000_000, timeout=5.0, retries=0)
        for paper in parse(document, "page", now):
            known = by_key.get(paper.key)
            by_key[paper.key] = merge(known, paper) if known else paper
    return list(by_key.values())
