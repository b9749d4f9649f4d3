"""Alembic environment: runs against the connection handed over by papercore.db.engine."""

from __future__ import annotations

from alembic import context

from papercore.db.schema import metadata

# Tables that create themselves and are not Alembic's to compare or drop: APScheduler's job store
# and procrastinate's schema (applied by `digest init` with the procrastinate queue backend).
SELF_MANAGED = {"apscheduler_jobs"}
SELF_MANAGED_PREFIXES = ("procrastinate_",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ != "table" or name is None:
        return True
    return name not in SELF_MANAGED and not name.startswith(SELF_MANAGED_PREFIXES)


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
