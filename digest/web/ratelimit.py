"""Sliding-window rate limits and login backoff kept in the database, so that every web process
on every machine shares one budget per key. Keys (IP addresses, email addresses) are stored only
as a keyed hash, and hits older than the window are deleted as new ones come in."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

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
        return _keyed(self._secret, self.scope, key)

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


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """``free`` failures per key, then a wait of ``first`` seconds after the last one, doubling
    with each further failure up to ``longest``. Failures are remembered for ``memory`` seconds.
    While all keys together failed ``crowd`` times in the last ``crowd_window`` seconds (a
    distributed guess), each key gets one try and then the longest wait."""

    free: int
    first: float
    longest: float
    crowd: int
    crowd_window: float = 3600.0
    memory: float = 86400.0

    def wait(self, failures: int, under_attack: bool) -> float:
        """Seconds a key with ``failures`` must wait after its last failure before trying."""
        free = 1 if under_attack else self.free
        if failures < free:
            return 0.0
        if under_attack:
            return self.longest
        return min(self.first * 2 ** min(failures - free, 40), self.longest)


class Backoff:
    """Exponential backoff per key, for logins: never a lockout of a key that has not failed.

    ``attempt`` is asked before a password is checked and counts the try as a failure at once
    (so parallel guesses from one key are counted however they interleave); ``succeeded`` then
    clears the key's record. A key that must wait is refused before its password is looked at,
    so waiting cannot be skipped by guessing faster."""

    def __init__(self, engine: Engine, scope: str, policy: BackoffPolicy, secret: str) -> None:
        self.engine = engine
        self.scope = scope
        self.policy = policy
        self._secret = secret.encode()

    def attempt(self, key: str, at: float) -> float:
        """0.0 when ``key`` may try now (the try is recorded as a failure until ``succeeded``);
        else the seconds it must still wait (nothing recorded). Blocking: call from a thread."""
        digest = _keyed(self._secret, self.scope, key)
        policy = self.policy
        with transaction(self.engine) as connection:
            _lock(connection, digest)
            connection.execute(
                delete(hits).where(hits.c.scope == self.scope, hits.c.at <= at - policy.memory)
            )
            failures, last = connection.execute(
                select(func.count(), func.max(hits.c.at)).where(
                    hits.c.scope == self.scope, hits.c.key_hash == digest
                )
            ).one()
            crowd = connection.execute(
                select(func.count()).where(
                    hits.c.scope == self.scope, hits.c.at > at - policy.crowd_window
                )
            ).scalar_one()
            needed = policy.wait(int(failures), under_attack=crowd >= policy.crowd)
            remaining = float(last) + needed - at if failures else 0.0
            if remaining > 0:
                return remaining
            connection.execute(insert(hits).values(scope=self.scope, key_hash=digest, at=at))
            return 0.0

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures (a right password). Blocking: call from a thread."""
        digest = _keyed(self._secret, self.scope, key)
        with transaction(self.engine) as connection:
            connection.execute(
                delete(hits).where(hits.c.scope == self.scope, hits.c.key_hash == digest)
            )


def client_key(address: str) -> str:
    """The key a client address is throttled by: an IPv4 address itself; an IPv6 address by
    its /64 (one host is commonly given a whole /64, so each of its addresses is not a new
    stranger); anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keyed(secret: bytes, scope: str, key: str) -> str:
    return hmac.new(secret, f"{scope}\0{key}".encode(), hashlib.sha256).hexdigest()


def _lock(connection: Connection, digest: str) -> None:
    """Serialise hits on one key: an advisory lock for the transaction on PostgreSQL (SQLite
    serialises writers already: the first DELETE takes the write lock)."""
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
