"""Importing subscribers from CSV: ``email,topics`` (topics separated by ';') and optional
``name,frequency,timezone,hour`` columns. All rows are checked before any is written. Cells
that ``subscribers export`` escaped for spreadsheets (a ' before = + - @ ...) are read back as
they were stored."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from papercore.errors import DigestError, ParseError
from papercore.text import clean_text
from subscribers import store
from subscribers.csv_export import unescape_cell
from subscribers.model import (
    check_frequency,
    check_hour,
    clean_phrases,
    normalise_email,
)
from subscribers.zones import resolve_zone

REQUIRED = ("email", "topics")
OPTIONAL = ("name", "frequency", "timezone", "hour")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    email: str
    topics: tuple[str, ...]
    name: str
    frequency: str
    timezone: str
    hour: int


@dataclass(slots=True)
class ImportCounts:
    read: int = 0
    imported: int = 0
    existing: int = 0
    suppressed: int = 0


def parse_csv(name: str, text: str, default_hour: int, default_timezone: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ParseError(name, 1, f"header row lacks column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ParseError(name, 1, f"unknown column(s) {', '.join(unknown)}")
    reader.fieldnames = header
    rows: list[Row] = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                raise ParseError(name, line, "more fields than the header has")
            try:
                hour_text = (record.get("hour") or "").strip()
                rows.append(
                    Row(
                        line=line,
                        # cells as `subscribers export` escaped them for spreadsheets
                        email=normalise_email(unescape_cell(record.get("email") or "")),
                        topics=clean_phrases(
                            [unescape_cell(t) for t in (record.get("topics") or "").split(";")]
                        ),
                        name=clean_text(unescape_cell(record.get("name") or ""))[:200],
                        frequency=check_frequency((record.get("frequency") or "daily").strip()),
                        timezone=resolve_zone(
                            (record.get("timezone") or default_timezone).strip()
                        ),
                        hour=check_hour(int(hour_text) if hour_text else default_hour),
                    )
                )
            except ValueError as exc:
                raise ParseError(name, line, f"hour is not a number: {exc}") from exc
            except ParseError:
                raise
            except DigestError as exc:
                raise ParseError(name, line, exc.one_line()) from exc
    except csv.Error as exc:
        raise ParseError(name, reader.line_num, f"invalid CSV: {exc}") from exc
    return rows


def import_rows(
    connection: Connection, rows: list[Row], consent: str, source: str, now: datetime
) -> ImportCounts:
    """Add rows as active subscribers with consent recorded as the import. Suppressed addresses
    and existing subscribers are left alone."""
    counts = ImportCounts(read=len(rows))
    seen: set[str] = set()
    for row in rows:
        if row.email in seen or store.find(connection, row.email) is not None:
            counts.existing += 1
            continue
        seen.add(row.email)
        if store.is_suppressed(connection, row.email):
            counts.suppressed += 1
            continue
        subscriber_id = store.add(
            connection,
            row.email,
            now,
            topics=row.topics,
            name=row.name,
            status="active",
            frequency=row.frequency,  # type: ignore[arg-type]
            hour=row.hour,
            timezone=row.timezone,
        )
        store.record_event(
            connection,
            subscriber_id,
            "import",
            now,
            detail={"source": source, "line": row.line},
            consent_text=consent,
        )
        counts.imported += 1
    return counts
