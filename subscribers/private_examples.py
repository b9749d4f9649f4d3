"""Private examples: the seeds of a subscriber's list that match no stored paper, kept with that
subscriber only (SQL on ``private_examples`` here only). Each is a "more like this" example
whose text is what the list gave; its example id is ``seed:<row id>``. Deleting the subscriber
deletes them (ON DELETE CASCADE); nothing here ever reaches the shared ``papers`` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from papercore.db.schema import private_examples
from papercore.papers import title_hash, utc
from subscribers.model import PRIVATE_PREFIX, Example, SeedText, is_private


def _example(row: Row[Any]) -> Example:
    seed = SeedText(row.title, row.abstract or "", tuple(row.authors or ()), row.arxiv)
    return Example(f"{PRIVATE_PREFIX}{row.id}", row.vote, utc(row.created_at), seed)


def row_ids(example_ids: Sequence[str]) -> list[int]:
    """The row ids behind ``seed:<n>`` example ids (other ids are skipped)."""
    found = []
    for example_id in example_ids:
        number = example_id.removeprefix(PRIVATE_PREFIX)
        if is_private(example_id) and number.isascii() and number.isdigit() and len(number) < 19:
            found.append(int(number))
    return found


def put(
    connection: Connection, subscriber_id: int, seeds: Sequence[SeedText], vote: int, now: datetime
) -> None:
    """Keep each seed with the subscriber (one per normalised title; a seed listed again only
    refreshes its vote and time, its text stays, so its example id and cached embedding do)."""
    rows = {
        title_hash(s.title): {
            "subscriber_id": subscriber_id,
            "title_key": title_hash(s.title),
            "title": s.title,
            "abstract": s.abstract,
            "authors": list(s.authors),
            "arxiv": s.arxiv,
            "vote": vote,
            "created_at": now,
        }
        for s in seeds
    }
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(private_examples)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["subscriber_id", "title_key"],
            set_={"vote": statement.excluded.vote, "created_at": statement.excluded.created_at},
        ),
        list(rows.values()),
    )


def examples_of(connection: Connection, ids: Sequence[int]) -> dict[int, list[Example]]:
    """Each subscriber's private examples, oldest first."""
    found: dict[int, list[Example]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = connection.execute(
        select(private_examples)
        .where(private_examples.c.subscriber_id.in_(list(ids)))
        .order_by(private_examples.c.created_at, private_examples.c.id)
    )
    for row in rows:
        found[row.subscriber_id].append(_example(row))
    return found


def remove(
    connection: Connection, subscriber_id: int, example_ids: Sequence[str] | None = None
) -> int:
    """Forget the subscriber's private examples with these ids (all when None); how many."""
    query = delete(private_examples).where(private_examples.c.subscriber_id == subscriber_id)
    if example_ids is not None:
        numbers = row_ids(example_ids)
        if not numbers:
            return 0
        query = query.where(private_examples.c.id.in_(numbers))
    return int(connection.execute(query).rowcount or 0)


def embeddings_of(
    connection: Connection, example_ids: Sequence[str], length: int
) -> list[tuple[str, bytes]]:
    """(example id, bytes) of the private examples among ``example_ids`` whose cached embedding
    is ``length`` bytes long."""
    numbers = row_ids(example_ids)
    if not numbers:
        return []
    rows = connection.execute(
        select(private_examples.c.id, private_examples.c.embedding).where(
            private_examples.c.id.in_(numbers), private_examples.c.embedding.is_not(None)
        )
    )
    return [(f"{PRIVATE_PREFIX}{n}", bytes(blob)) for n, blob in rows if len(blob) == length]


def save_embeddings(connection: Connection, blobs: Mapping[str, bytes]) -> None:
    """Cache the embedding of each private example (ids ``seed:<n>``)."""
    for example_id, blob in blobs.items():
        for number in row_ids([example_id]):
            connection.execute(
                update(private_examples)
                .where(private_examples.c.id == number)
                .values(embedding=blob)
            )
