"""Sliding-window rate limits kept in the database, so that every web process on every machine
shares one budget per key. Keys (IP addresses, email addresses) are stored only as a keyed hash,
and hits older than the window are deleted as new ones come in."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from papercore.db.engine import transaction
from papercore.db.schema import rate_limit_hits as hits


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key of one ``scope``."""

    def __init__(self, engine: Engine, scope: str, limit: int, window: float, secret: str) -> None:
        self.engine = engine
        self.scope = scope
        self.limit = limit
        self.window = window
        self._secret = secret.encode()

    def _hash(self, key: str) -> str:
        return hmac.new(self._secret, f"{self.scope}\0{key}".encode(), hashlib.sha256).hexdigest()

    def exhausted(self, key: str, at: float) -> bool:
        """Whether ``key`` has used its budget at time ``at``, counting nothing (blocking)."""
        with self.engine.connect() as connection:
            used = connection.execute(
                select(func.count()).where(
                    hits.c.scope == self.scope,
                    hits.c.key_hash == self._hash(key),
                    hits.c.at > at - self.window,
                )
            ).scalar_one()
        return bool(used >= self.limit)

    def allow(self, key: str, at: float) -> bool:
        """Count a hit for ``key`` at time ``at`` (seconds); False once over the budget (the
        refused hit is not counted). Blocking: call it from a worker thread."""
        digest = self._hash(key)
        with transaction(self.engine) as connection:
            _lock(connection, digest)
            connection.execute(
                delete(hits).where(hits.c.scope == self.scope, hits.c.at <= at - self.window)
            )
            used = connection.execute(
                select(func.count()).where(hits.c.scope == self.scope, hits.c.key_hash == digest)
            ).scalar_one()
            if used >= self.limit:
                return False
            connection.execute(insert(hits).values(scope=self.scope, key_hash=digest, at=at))
            return True


def _lock(connection: Connection, digest: str) -> None:
    """Serialise hits on one key: an advisory lock for the transaction on PostgreSQL (SQLite
    serialises writers already: the first DELETE takes the write lock)."""
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
