"""inbound_events: bounces, complaints and mailed unsubscribes coming back, and kept messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 03:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_key', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('issue_id', sa.BigInteger(), nullable=True),
    sa.Column('subscriber_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_events')),
    sa.UniqueConstraint('event_key', name=op.f('uq_inbound_events_event_key'))
    )
    op.create_index(op.f('ix_inbound_events_email_hash_kind_received_at'), 'inbound_events', ['email_hash', 'kind', 'received_at'], unique=False)
    op.create_index(op.f('ix_inbound_events_action_received_at'), 'inbound_events', ['action', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_events_action_received_at'), table_name='inbound_events')
    op.drop_index(op.f('ix_inbound_events_email_hash_kind_received_at'), table_name='inbound_events')
    op.drop_table('inbound_events')
