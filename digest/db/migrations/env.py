"""Alembic environment: runs against the connection handed over by digest.db.engine."""

from __future__ import annotations

from alembic import context

from digest.db.schema import metadata

# Tables that create themselves and are not Alembic's to compare or drop.
SELF_MANAGED = {"apscheduler_jobs"}


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name in SELF_MANAGED)


connection = context.config.attributes.get("connection")
if connection is None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
