"""The procrastinate App on the configured PostgreSQL database, and its schema."""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
from procrastinate.schema import SchemaManager
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from papercore.errors import ConfigError, StorageError

# Serialises concurrent `digest init` runs that would both create procrastinate's schema.
_SCHEMA_LOCK = 0x64696765  # "dige"


def conninfo(url: str) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            [
                f'[queue] backend = "procrastinate" needs PostgreSQL; database.url is '
                f"{parsed.get_backend_name()}"
            ]
        )
    params: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def make_app(url: str, *, max_connections: int = 8) -> App:
    """An App whose connector opens a pool on the database at ``url`` when the app is opened."""
    connector = PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=max_connections)
    return App(connector=connector)


def schema_applied(connection: psycopg.Connection[Any]) -> bool:
    found = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    return found is not None and found[0] is not None


def apply_schema(url: str) -> bool:
    """Create procrastinate's tables and functions unless they exist; True if it created them."""
    info = conninfo(url)
    try:
        with psycopg.connect(info, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                if schema_applied(connection):
                    return False
                connector = SyncPsycopgConnector(conninfo=info)
                connector.open()
                try:
                    SchemaManager(connector).apply_schema()
                finally:
                    connector.close()
                return True
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
    except psycopg.Error as exc:
        raise StorageError(f"cannot prepare the job queue: {exc}".splitlines()[0]) from exc


def require_schema(url: str) -> None:
    """Fail with a clear line unless procrastinate's schema is in the database."""
    try:
        with psycopg.connect(conninfo(url), autocommit=True) as connection:
            ready = schema_applied(connection)
    except psycopg.Error as exc:
        raise StorageError(f"database is unreachable: {exc}".splitlines()[0]) from exc
    if not ready:
        raise StorageError("the job queue is not initialised: run `digest init`")
