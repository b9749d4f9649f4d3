"""Ingestion: read documents, parse them all, then store them in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from digest.paper_store import IngestCounts, upsert
from digest.sources import Format, parse
from digest.sources.fetch import read
from papercore.config import SourcesSettings
from papercore.db.engine import transaction
from papercore.papers import Paper


@dataclass(frozen=True, slots=True)
class DocumentReport:
    name: str
    counts: IngestCounts


def sample_pages() -> list[Path]:
    """The five listing pages shipped with the package (the embedded default's sample data)."""
    folder = Path(str(resources.files("digest") / "sample_data"))
    return sorted(folder.glob("*.txt"))


def ingest_locations(
    engine: Engine,
    locations: Sequence[str],
    fmt: Format,
    sources: SourcesSettings,
    now: datetime,
    on_document: Callable[[str], None] | None = None,
) -> list[DocumentReport]:
    """Ingest every location (path or URL). Nothing is written unless all of them parse."""
    parsed: list[tuple[str, list[Paper]]] = []
    for location in locations:
        document = read(
            location, max_bytes=sources.max_bytes, timeout=sources.timeout, retries=sources.retries
        )
        parsed.append((document.name, parse(document, fmt, now)))
        if on_document is not None:
            on_document(document.name)
    reports = []
    with transaction(engine) as connection:
        for name, papers in parsed:
            reports.append(DocumentReport(name, upsert(connection, papers, now)))
    return reports
