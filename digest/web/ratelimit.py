"""Sliding-window rate limits and login backoff kept in the database, so that every web process
on every machine shares one budget per key. Keys (IP addresses, email addresses) are stored only
as a keyed hash, and hits older than the window are deleted as new ones come in."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

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
    distributed guess, which any stranger can keep up), each key gets at most ``crowd_free``
    free tries and then waits at least ``crowd_first`` seconds, doubling up to ``longest``: a
    typo or two never costs the operator more than a minute."""

    free: int
    first: float
    longest: float
    crowd: int
    crowd_window: float = 3600.0
    memory: float = 86400.0
    crowd_free: int = 3
    crowd_first: float = 60.0

    def wait(self, failures: int, under_attack: bool) -> float:
        """Seconds a key with ``failures`` must wait after its last failure before trying."""
        free = min(self.free, self.crowd_free) if under_attack else self.free
        first = max(self.first, self.crowd_first) if under_attack else self.first
        if failures < free:
            return 0.0
        return min(first * 2 ** min(failures - free, 40), self.longest)


class Backoff:
    """Exponential backoff per key, for logins: never a lockout of a key that has not failed.

    ``attempt`` is asked before a password is checked and records the try as in flight; the
    caller then reports ``failed`` (the try becomes a failure) or ``succeeded`` (the key's
    record is cleared). A key that must wait for its resolved failures is refused before its
    password is looked at, so waiting cannot be skipped by guessing faster. A try that would
    use up the free tries only if the tries still in flight all failed waits (briefly: a check
    is a constant-time compare) until they are resolved, instead of being refused: so parallel
    guesses are each counted before the next is checked, and the operator's own second tab,
    sent with the right password beside the first, is let in once the first succeeds."""

    SETTLE = 5.0  # the longest a try waits for the tries in flight from its key
    IN_FLIGHT = 8  # tries from one key waiting at once; more are refused at once
    STALE = 60.0  # a try in flight longer than this (by the app's clock) counts as failed

    def __init__(self, engine: Engine, scope: str, policy: BackoffPolicy, secret: str) -> None:
        self.engine = engine
        self.scope = scope
        self.policy = policy
        self._secret = secret.encode()
        self._trying = f"{scope}:trying"
        self._resolved = threading.Condition()
        self._waiting: dict[str, int] = {}  # key hash -> tries of this process waiting

    def attempt(self, key: str, at: float) -> float:
        """0.0 when ``key`` may try now (the try is recorded in flight until ``failed`` or
        ``succeeded``); else the seconds it must still wait (nothing recorded). Blocking (it
        may wait for the key's tries in flight): call from a thread."""
        digest = _keyed(self._secret, self.scope, key)
        deadline = time.monotonic() + self.SETTLE
        with self._resolved:
            if self._waiting.get(digest, 0) >= self.IN_FLIGHT:
                return self.policy.first
            self._waiting[digest] = self._waiting.get(digest, 0) + 1
        try:
            while True:
                verdict = self._try(digest, at)
                if verdict is not None:
                    return verdict
                with self._resolved:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return self.policy.first
                    self._resolved.wait(min(left, 0.05))  # other processes: poll
        finally:
            with self._resolved:
                self._waiting[digest] -= 1
                if not self._waiting[digest]:
                    del self._waiting[digest]

    def _try(self, digest: str, at: float) -> float | None:
        """0.0 (a try recorded in flight), the seconds to wait, or None: wait for the tries in
        flight to be resolved."""
        policy = self.policy
        with transaction(self.engine) as connection:
            _lock(connection, digest)
            connection.execute(
                delete(hits).where(
                    hits.c.scope.in_([self.scope, self._trying]), hits.c.at <= at - policy.memory
                )
            )
            connection.execute(  # a try never resolved (its process died): a failure
                update(hits)
                .where(
                    hits.c.scope == self._trying,
                    hits.c.key_hash == digest,
                    hits.c.at <= at - self.STALE,
                )
                .values(scope=self.scope)
            )
            failures, last = connection.execute(
                select(func.count(), func.max(hits.c.at)).where(
                    hits.c.scope == self.scope, hits.c.key_hash == digest
                )
            ).one()
            trying = connection.execute(
                select(func.count()).where(hits.c.scope == self._trying, hits.c.key_hash == digest)
            ).scalar_one()
            crowd = connection.execute(
                select(func.count()).where(
                    hits.c.scope == self.scope, hits.c.at > at - policy.crowd_window
                )
            ).scalar_one()
            under_attack = crowd >= policy.crowd
            needed = policy.wait(int(failures), under_attack)
            remaining = float(last) + needed - at if failures else 0.0
            if remaining > 0:
                return remaining
            if trying and policy.wait(int(failures) + int(trying), under_attack) > 0:
                return None  # those in flight may use up what is left: wait for them
            connection.execute(insert(hits).values(scope=self._trying, key_hash=digest, at=at))
            return 0.0

    def failed(self, key: str, at: float) -> None:
        """The try ``attempt`` let through had a wrong password: it counts as a failure."""
        digest = _keyed(self._secret, self.scope, key)
        with transaction(self.engine) as connection:
            _lock(connection, digest)
            oldest = (
                select(hits.c.id)
                .where(hits.c.scope == self._trying, hits.c.key_hash == digest)
                .order_by(hits.c.id)
                .limit(1)
            )
            connection.execute(delete(hits).where(hits.c.id.in_(oldest.scalar_subquery())))
            connection.execute(insert(hits).values(scope=self.scope, key_hash=digest, at=at))
        self._notify()

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures and tries (a right password). Blocking: call from a
        thread."""
        digest = _keyed(self._secret, self.scope, key)
        with transaction(self.engine) as connection:
            _lock(connection, digest)
            connection.execute(
                delete(hits).where(
                    hits.c.scope.in_([self.scope, self._trying]), hits.c.key_hash == digest
                )
            )
        self._notify()

    def _notify(self) -> None:
        with self._resolved:
            self._resolved.notify_all()


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
