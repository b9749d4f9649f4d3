"""The collect job: fetch the configured sources and ingest what is new, one source at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from digest.ingest import ingest_locations
from digest.paper_store import IngestCounts
from digest.schedule.events import LOGGER, event
from digest.sources import Format
from papercore.config import SourcesSettings
from papercore.errors import DigestError

log = logging.getLogger(LOGGER)
NO_SOURCES = (
    "no sources configured, nothing to collect: set [sources] pages, hf_daily = true or"
    " arxiv_queries in the config file (see config.example.toml)"
)


@dataclass(frozen=True, slots=True)
class SourceRequest:
    location: str  # a URL or a path
    fmt: Format


@dataclass(slots=True)
class CollectReport:
    counts: IngestCounts = field(default_factory=IngestCounts)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (location, one-line reason)
    embedded: int = 0  # new papers given semantic-ranker embeddings afterwards
    no_sources: bool = False  # nothing is configured to read: read=0 says nothing about sources


def arxiv_url(base: str, query: str) -> str:
    """The arXiv API URL for one search query, newest submissions first."""
    params = {
        "search_query": query,
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": 0,
        "max_results": 100,
    }
    return f"{base}?{urlencode(params)}"


def hf_daily_url(base: str, day: datetime) -> str:
    return f"{base}?{urlencode({'date': day.date().isoformat()})}"


def collect_plan(sources: SourcesSettings, now: datetime) -> list[SourceRequest]:
    """What one collect run reads, in order."""
    plan = [SourceRequest(page, "page") for page in sources.pages]
    if sources.hf_daily:
        # Yesterday too: a day's list keeps filling after midnight UTC, and re-reading is harmless.
        for day in (now - timedelta(days=1), now):
            plan.append(SourceRequest(hf_daily_url(sources.hf_daily_url, day), "hf"))
    plan.extend(
        SourceRequest(arxiv_url(sources.arxiv_url, query), "arxiv")
        for query in sources.arxiv_queries
    )
    return plan


def collect(
    engine: Engine,
    sources: SourcesSettings,
    now: datetime,
    should_stop: Callable[[], bool] = lambda: False,
) -> CollectReport:
    """Ingest every planned source; one unreadable source is logged and does not stop the others.
    Stops between sources when ``should_stop()``. With no sources configured it warns, in one
    line that says how to configure them."""
    report = CollectReport()
    plan = collect_plan(sources, now)
    if not plan:
        report.no_sources = True
        event(log, "collect.no_sources", logging.WARNING, hint=NO_SOURCES)
    for request in plan:
        if should_stop():
            break
        try:
            documents = ingest_locations(engine, [request.location], request.fmt, sources, now)
        except DigestError as exc:
            report.failed.append((request.location, exc.one_line()))
            event(
                log,
                "collect.source_failed",
                logging.WARNING,
                source=request.location,
                error=exc.one_line(),
            )
            continue
        for document in documents:
            report.counts.add(document.counts)
            c = document.counts
            fields: dict[str, Any] = {
                "source": document.name,
                "read": c.read,
                "new": c.new,
                "merged": c.merged,
                "skipped": c.skipped,
            }
            if c.skipped:
                fields["why_skipped"] = _reasons(c)
            event(log, "collect.source", logging.INFO, **fields)
    return report


def _reasons(counts: IngestCounts) -> str:
    return "; ".join(f"{reason}: {n}" for reason, n in counts.why_skipped.items())
