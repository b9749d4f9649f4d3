"""ids never reused on SQLite (AUTOINCREMENT); kept inbound messages collapse their repeats

Every proof we hand out names a row id: signed links (subscriber id), VERP addresses and keyed
Message-IDs (issue id, subscriber id). SQLite without AUTOINCREMENT gives a deleted row's id
(the highest one) to the next row, so an erased subscriber's old link or VERP address would
name whoever signed up next. PostgreSQL identities never go back, so this is SQLite only: the
tables are recreated with AUTOINCREMENT, and each table's sequence starts above every id it has
ever handed out that is still on record (the rows, and the inbound events naming them), so an
id deleted before this migration is not given out again either.

inbound_events gains fingerprint, sender_key and repeats (all databases).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# table -> columns elsewhere that hold its ids (rows that may outlive the row itself)
NEVER_REUSED = {
    'subscribers': ('inbound_events.subscriber_id',),
    'issues': ('inbound_events.issue_id',),
    'signup_submissions': (),
    'inbound_events': (),
}


def upgrade() -> None:
    with op.batch_alter_table('inbound_events') as batch:
        batch.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('sender_key', sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column('repeats', sa.Integer(), server_default='1', nullable=False)
        )
        batch.create_index(op.f('ix_inbound_events_fingerprint'), ['fingerprint'], unique=False)
        batch.create_index(
            op.f('ix_inbound_events_sender_key_received_at'),
            ['sender_key', 'received_at'],
            unique=False,
        )
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return  # identity / serial columns never hand out an id twice
    # Dropping the old table must not cascade to the rows that point at it, so foreign keys
    # are off while the tables are recreated. papercore.db.engine.migrate turns them off before
    # its transaction; any other caller (with them on) gets its work so far committed here,
    # since SQLite ignores the pragma inside a transaction.
    enforced = bind.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1
    if enforced:
        if getattr(bind.connection.dbapi_connection, 'in_transaction', False):
            bind.exec_driver_sql('COMMIT')
        bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    try:
        _recreate_with_autoincrement(bind)
    finally:
        if enforced:
            bind.exec_driver_sql('PRAGMA foreign_keys=ON')


def _recreate_with_autoincrement(bind: sa.engine.Connection) -> None:
    for table, elsewhere in NEVER_REUSED.items():
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ):
            pass
        highest = [f'SELECT MAX(id) AS n FROM {table}'] + [
            f'SELECT MAX({c.split(".")[1]}) AS n FROM {c.split(".")[0]}' for c in elsewhere
        ]
        top = bind.exec_driver_sql(
            f'SELECT MAX(n) FROM ({" UNION ALL ".join(highest)})'
        ).scalar()
        if top is None:
            continue
        bind.exec_driver_sql('DELETE FROM sqlite_sequence WHERE name = ?', (table,))
        bind.exec_driver_sql(
            'INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', (table, int(top))
        )


def downgrade() -> None:
    with op.batch_alter_table('inbound_events') as batch:
        batch.drop_index(op.f('ix_inbound_events_sender_key_received_at'))
        batch.drop_index(op.f('ix_inbound_events_fingerprint'))
        batch.drop_column('repeats')
        batch.drop_column('sender_key')
        batch.drop_column('fingerprint')
