"""signup_submissions: each signup's request, keyed by the nonce its confirmation link carries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signup_submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('frequency', sa.String(length=8), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('seeds', sa.JSON(), nullable=True),
    sa.Column('stopped_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_signup_submissions_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_submissions')),
    sa.UniqueConstraint('nonce', name=op.f('uq_signup_submissions_nonce'))
    )
    op.create_index('ix_signup_submissions_subscriber_id', 'signup_submissions', ['subscriber_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signup_submissions_subscriber_id', table_name='signup_submissions')
    op.drop_table('signup_submissions')
