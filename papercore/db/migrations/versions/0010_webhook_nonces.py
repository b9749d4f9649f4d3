"""webhook_nonces: each signed webhook post is accepted once (Mailgun's signature does not cover
the event, so its token must not be usable twice)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_nonces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_nonces')),
    sa.UniqueConstraint('provider', 'nonce', name=op.f('uq_webhook_nonces_provider_nonce'))
    )
    op.create_index(op.f('ix_webhook_nonces_received_at'), 'webhook_nonces', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_nonces_received_at'), table_name='webhook_nonces')
    op.drop_table('webhook_nonces')
