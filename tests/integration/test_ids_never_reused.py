"""Every proof names a row id (signed links, VERP, Message-IDs), so no id is handed out twice:
not by a new database, and not by one migrated from before 0013 whose highest subscriber was
erased before the migration (SQLite reuses the highest rowid of a table without AUTOINCREMENT).
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from papercore.db.engine import MIGRATIONS, make_engine, migrate, transaction
from subscribers import store
from subscribers.rights import forget
from tests.conftest import NOW


def _alembic(engine: Engine, target: str) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_a_forgotten_subscribers_id_is_not_given_to_the_next_one(engine: Engine) -> None:
    with transaction(engine) as connection:
        first = store.add(connection, "ada@example.org", NOW, status="active")
        last = store.add(connection, "bob@example.org", NOW, status="active")
        forget(connection, "bob@example.org", NOW)
        after = store.add(connection, "cy@example.org", NOW, status="active")
    assert first < last < after


@pytest.mark.parametrize("through", ["migrate", "alembic with foreign keys on"])
def test_migration_0013_keeps_rows_and_never_reuses_an_id_erased_before_it(
    empty_database_url: str, through: str
) -> None:
    engine = make_engine(empty_database_url)
    _alembic(engine, "0012")
    with transaction(engine) as connection:
        ada = store.add(connection, "ada@example.org", NOW, topics=["graph"], status="active")
        bob = store.add(connection, "bob@example.org", NOW, status="active")
        connection.execute(
            text(
                "INSERT INTO inbound_events (event_key, received_at, via, kind, action, detail,"
                " subscriber_id) VALUES ('k', :now, 'smtp', 'hard_bounce', 'suppressed', '', :sid)"
            ),
            {"now": NOW, "sid": bob},
        )
        forget(connection, "bob@example.org", NOW)  # the highest id, erased before 0013
    if through == "migrate":
        migrate(engine)
    else:  # recreating a table must not cascade to its children's rows either way
        _alembic(engine, "head")
    with transaction(engine) as connection:
        cy = store.add(connection, "cy@example.org", NOW, status="active")
        kept = store.get(connection, ada)
        events = connection.execute(text("SELECT repeats FROM inbound_events")).scalars().all()
    engine.dispose()
    assert cy > bob  # bob's old links and VERP addresses cannot name cy
    assert [i.phrase for i in kept.interests] == ["graph"]  # children survived the recreate
    assert events == [1]
