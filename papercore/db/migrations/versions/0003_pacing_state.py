"""pacing_state: the global send rate shared by worker processes (scale-out, issue 8)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pacing_state',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('tat', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_pacing_state'))
    )


def downgrade() -> None:
    op.drop_table('pacing_state')
