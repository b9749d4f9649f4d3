"""Shared fixtures: databases (SQLite and the machine's PostgreSQL), settings, sample pages.

PostgreSQL tests use ``DIGEST_TEST_POSTGRES_URL`` (scripts/test sets it to the local server). Each
test session creates a database of its own there and drops it at the end, so concurrent runs do not
collide. Without the variable the PostgreSQL half of the suite is skipped, saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from papercore.config import Settings, load_settings
from papercore.db.engine import make_engine, migrate
from papercore.db.schema import metadata

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_PAGES = sorted(FIXTURES.glob("0*.txt"))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("DIGEST_TEST_POSTGRES_URL", "")


@contextmanager
def _scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set DIGEST_TEST_POSTGRES_URL (scripts/test does)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test session, migrated to head."""
    with _scratch_postgres("digest_test") as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for a migration test to build up revision by revision:
    a new SQLite file, or a scratch PostgreSQL database of the test's own, dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with _scratch_postgres("digest_scratch") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'digest.sqlite3'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as connection:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and a temporary data directory."""
    return load_settings(
        None,
        database={"url": database_url},
        app={"data_dir": tmp_path / "data", "base_url": "https://digest.example.org"},
        web={"secret_key": "test-secret-key-0123456789abcdef0123456789"},
    )


@pytest.fixture
def now() -> datetime:
    return NOW


DIGEST = str(Path(sys.executable).parent / "digest")


class Cli:
    """Runs the real ``digest`` console script with a config of its own."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")} | {
            "DIGEST_DATABASE__URL": database_url,
            "DIGEST_APP__DATA_DIR": str(workdir / "data"),
            "DIGEST_WEB__SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
            "COLUMNS": "200",
            # the embedding ranker costs ~30 s of CPU per fresh database; tests that want it opt in
            "DIGEST_RANKING__SEMANTIC": "off",
        }

    def __call__(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [DIGEST, *args],
            cwd=self.workdir,
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"digest {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    """The ``digest`` command against the test database (already migrated)."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Cli(workdir, database_url)
