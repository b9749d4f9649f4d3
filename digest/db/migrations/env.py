"""Alembic environment: runs against the connection handed over by digest.db.engine."""

from __future__ import annotations

from alembic import context

from digest.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"), target_metadata=metadata
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
