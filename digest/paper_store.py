"""The papers table: idempotent, merging upserts, listing, and the cached embeddings
(``papers.embedding``). All SQL on ``papers`` is here; an upsert that re-keys a paper (an arXiv id
replacing a title hash) carries its memory over through ``digest.memory``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, func, insert, or_, select, update

from digest import memory
from papercore.db.engine import transaction
from papercore.db.schema import papers
from papercore.papers import Paper, clean_paper, merge, title_hash, utc

CHUNK = 500
T = TypeVar("T")
# Why a paper read from a source changed nothing (``IngestCounts.why_skipped``).
SKIPPED_REPEAT = "a duplicate in the same file"
SKIPPED_EARLIER = "already read from an earlier file of this run"
SKIPPED_KNOWN = "already stored, nothing new"


@dataclass(slots=True)
class IngestCounts:
    """Papers read, new, merged into a stored one, and skipped, with how many for each reason
    (``why_skipped``: reason -> count, the reasons being the SKIPPED_* phrases)."""

    read: int = 0
    new: int = 0
    merged: int = 0
    skipped: int = 0
    why_skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.why_skipped[reason] = self.why_skipped.get(reason, 0) + 1

    def add(self, other: IngestCounts) -> None:
        self.read += other.read
        self.new += other.new
        self.merged += other.merged
        self.skipped += other.skipped
        for reason, count in other.why_skipped.items():
            self.why_skipped[reason] = self.why_skipped.get(reason, 0) + count


def paper_from_row(row: Row[Any]) -> Paper:
    """The stored paper, cleaned (the row keeps its id)."""
    stored = Paper(
        id=row.id,
        title=row.title,
        abstract=row.abstract or "",
        ai_summary=row.ai_summary,
        authors=tuple(row.authors or ()),
        author_count=row.author_count,
        published=row.published,
        posted_at=utc(row.posted_at) if row.posted_at else None,
        upvotes=row.upvotes,
        comments=row.comments,
        code_url=row.code_url,
        page_url=row.page_url,
        project_url=row.project_url,
        thumbnail_url=row.thumbnail_url,
        sources=tuple(row.sources or ()),
        first_seen=utc(row.first_seen) if row.first_seen else None,
    )
    return clean_paper(stored, keep_id=True)


def _values(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title_key": paper.key,
        "title": paper.title,
        "abstract": paper.abstract,
        "ai_summary": paper.ai_summary,
        "authors": list(paper.authors),
        "author_count": paper.author_count,
        "published": paper.published,
        "posted_at": paper.posted_at,
        "upvotes": paper.upvotes,
        "comments": paper.comments,
        "code_url": paper.code_url,
        "page_url": paper.page_url,
        "project_url": paper.project_url,
        "thumbnail_url": paper.thumbnail_url,
        "sources": list(paper.sources),
        "first_seen": paper.first_seen,
    }


def upsert(connection: Connection, incoming: Sequence[Paper], now: datetime) -> IngestCounts:
    """Add new papers and merge sightings of known ones (matched by id or normalised title), in
    the caller's transaction. Re-ingesting the same papers changes nothing. Only sources call
    this; where a stored paper's text was typed by a person (``typed_by_a_person``), the
    source's record replaces it (``source_wins``)."""
    incoming = [clean_paper(p) for p in incoming]
    counts = IngestCounts(read=len(incoming))
    by_key: dict[str, Paper] = {}
    by_id: dict[str, str] = {}
    for chunk in _chunks(incoming):
        ids = [p.id for p in chunk]
        keys = [p.key for p in chunk]
        rows = connection.execute(
            select(papers).where(or_(papers.c.id.in_(ids), papers.c.title_key.in_(keys)))
        )
        for row in rows:
            known = paper_from_row(row)
            by_key[row.title_key] = known
            by_id[known.id] = row.title_key
    stored = dict(by_key)  # the rows as they are in the database now
    fresh: set[str] = set()
    for paper in incoming:
        key = by_id.get(paper.id, paper.key)
        existing = by_key.get(key)
        if existing is None:
            by_key[key] = replace(paper, first_seen=now)
            by_id[paper.id] = key
            fresh.add(key)
            counts.new += 1
            continue
        if key not in fresh and typed_by_a_person(existing):
            merged = source_wins(existing, paper, now)  # the source's record wins
        else:
            merged = merge(existing, paper)
        if merged == existing:
            if key in fresh:
                counts.skip(SKIPPED_REPEAT)
            elif existing.first_seen is not None and utc(existing.first_seen) == now:
                counts.skip(SKIPPED_EARLIER)
            else:
                counts.skip(SKIPPED_KNOWN)
        else:
            by_key[key] = merged
            by_id[merged.id] = key
            if key not in fresh:
                counts.merged += 1
            else:
                counts.skip(SKIPPED_REPEAT)  # folded into the new row
    for key in fresh:
        connection.execute(insert(papers).values(**_values(by_key[key])))
    for key, before in stored.items():
        after = by_key[key]
        if after == before:
            continue
        values = _values(after)
        if typed_by_a_person(before):
            values["embedding"] = None  # it was of the typed text: embedded again from the source's
        else:
            values.pop("first_seen")  # a source's first sighting stays; a typed one is replaced
        if after.key != key and after.key in by_key:
            values["title_key"] = key  # another row holds the source's title: keep the row's key
        if after.id != before.id:  # an arXiv id replaces a title hash: carry the memory over
            memory.rekey(connection, before.id, after.id)
        connection.execute(update(papers).where(papers.c.title_key == key).values(**values))
    return counts


def ingest(engine: Engine, incoming: Sequence[Paper], now: datetime) -> IngestCounts:
    """``upsert`` in a transaction of its own."""
    with transaction(engine) as connection:
        return upsert(connection, incoming, now)


def list_papers(
    connection: Connection, since: date | None = None, limit: int | None = None
) -> list[Paper]:
    """Papers, newest first (by first sighting), optionally first seen or posted on/after since."""
    query = select(papers).order_by(papers.c.first_seen.desc(), papers.c.id)
    if since is not None:
        query = query.where(
            or_(
                papers.c.first_seen >= since,
                papers.c.posted_at >= since,
                papers.c.published >= since,
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [paper_from_row(row) for row in connection.execute(query)]


def get_papers(connection: Connection, ids: Iterable[str]) -> dict[str, Paper]:
    found: dict[str, Paper] = {}
    for chunk in _chunks(list(ids)):
        for row in connection.execute(select(papers).where(papers.c.id.in_(chunk))):
            found[row.id] = paper_from_row(row)
    return found


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _embedding_missing(length: int) -> Any:
    return or_(papers.c.embedding.is_(None), func.length(papers.c.embedding) != length)


def embeddings_of(
    connection: Connection, ids: Sequence[str], length: int
) -> list[tuple[str, bytes]]:
    """(id, bytes) of the papers among ``ids`` whose cached embedding is ``length`` bytes long."""
    found: list[tuple[str, bytes]] = []
    for chunk in _chunks(list(ids)):
        rows = connection.execute(
            select(papers.c.id, papers.c.embedding).where(
                papers.c.id.in_(chunk), papers.c.embedding.is_not(None)
            )
        )
        found.extend((pid, bytes(blob)) for pid, blob in rows if len(blob) == length)
    return found


def missing_embeddings(connection: Connection, length: int) -> list[str]:
    """Ids of the papers with no cached embedding of ``length`` bytes, in id order."""
    rows = connection.execute(
        select(papers.c.id).where(_embedding_missing(length)).order_by(papers.c.id)
    )
    return [paper_id for (paper_id,) in rows]


def count_missing_embeddings(connection: Connection, length: int) -> int:
    """How many papers ``missing_embeddings`` would list."""
    query = select(func.count()).select_from(papers).where(_embedding_missing(length))
    return int(connection.execute(query).scalar_one())


def save_embeddings(connection: Connection, blobs: dict[str, bytes]) -> None:
    """Cache each paper's embedding bytes."""
    for paper_id, blob in blobs.items():
        connection.execute(update(papers).where(papers.c.id == paper_id).values(embedding=blob))


def store_stamp(connection: Connection) -> tuple[int, str]:
    """A stamp that changes whenever papers are added or merged (their count and the newest
    first-seen time): a cache key for what is built from the store, never a rule of newness."""
    count, newest = connection.execute(
        select(func.count(), func.max(papers.c.first_seen)).select_from(papers)
    ).one()
    return int(count), str(newest)


def papers_first_seen_since(connection: Connection, since: datetime) -> int:
    """How many papers were first seen at or after ``since``."""
    return int(
        connection.execute(
            select(func.count()).select_from(papers).where(papers.c.first_seen >= since)
        ).scalar_one()
    )


# Before seeds became private examples (migration 0011), a seed list could add papers to this
# table: sources ("seed",) and first seen at the epoch. A source's record always wins over them.
SEED_SOURCE = "seed"
SEEDED_FIRST_SEEN = utc(datetime(1970, 1, 1))


def typed_by_a_person(paper: Paper) -> bool:
    """Whether a stored paper's text came from a person's seed list rather than a source."""
    first_seen = paper.first_seen
    return SEED_SOURCE in paper.sources or (
        first_seen is not None and first_seen <= SEEDED_FIRST_SEEN + timedelta(days=1)
    )


def source_wins(existing: Paper, incoming: Paper, now: datetime) -> Paper:
    """A source's sighting of a paper a person's seed list once typed: the source's title,
    authors and abstract replace the typed ones, the "seed" mark goes, and the paper counts as
    first seen now (so it is new to everyone and can be sent)."""
    merged = merge(existing, incoming)
    return replace(
        merged,
        title=incoming.title or merged.title,
        authors=incoming.authors,
        author_count=incoming.author_count,
        abstract=incoming.abstract,
        ai_summary=incoming.ai_summary,
        sources=tuple(s for s in merged.sources if s != SEED_SOURCE),
        first_seen=now,
    )


@dataclass(frozen=True)
class SeedShelf:
    """The paper store as profile seeding sees it (subscribers.seeding.PaperShelf), in the
    caller's transaction: reads only (a person's list never writes papers)."""

    connection: Connection

    def by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        return get_papers(self.connection, ids)

    def by_titles(self, titles: Sequence[str]) -> dict[str, Paper]:
        keys = list({title_hash(t) for t in titles})
        found: dict[str, Paper] = {}
        for chunk in _chunks(keys):
            for row in self.connection.execute(select(papers).where(papers.c.title_key.in_(chunk))):
                found[row.title_key] = paper_from_row(row)
        return found
