"""Writing a page of the send loop in one round trip to the database: on PostgreSQL the
statements run inside psycopg's pipeline mode, so they travel together and are answered at once
(when the block ends, or when a result is read); on SQLite, an in-process library, it is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection


@contextmanager
def one_round_trip(connection: Connection) -> Iterator[None]:
    """Send the statements executed inside the block together. Statements whose results are read
    inside it (RETURNING) should come last: reading one waits for everything before it. The
    caller's transaction is untouched (commit after the block)."""
    driver = connection.connection.driver_connection
    pipeline = getattr(driver, "pipeline", None)
    if connection.dialect.name != "postgresql" or pipeline is None:
        yield
        return
    with pipeline():
        yield
