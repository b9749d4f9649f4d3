"""rate_limit_hits: web signup rate limits shared by every web process

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limit_hits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_hits'))
    )
    op.create_index(op.f('ix_rate_limit_hits_scope_key_hash_at'), 'rate_limit_hits', ['scope', 'key_hash', 'at'], unique=False)
    op.create_index(op.f('ix_rate_limit_hits_scope_at'), 'rate_limit_hits', ['scope', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_limit_hits_scope_at'), table_name='rate_limit_hits')
    op.drop_index(op.f('ix_rate_limit_hits_scope_key_hash_at'), table_name='rate_limit_hits')
    op.drop_table('rate_limit_hits')
