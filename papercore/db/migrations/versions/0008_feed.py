"""feed: a revocable feed token per subscriber, and the why lines of every delivery

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 17:00:00.000000

``subscribers.feed_version`` is carried in the subscriber's feed token (/feed/<token>.atom):
bumping it ("new feed URL") revokes every feed URL given out before. ``deliveries.why`` holds the
explanations shown beside each paper (a list of lists of lines, parallel to ``paper_ids``) so
that the feed and the JSON view show the same reasons as the mail; older rows have none (NULL).
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers') as batch:
        batch.add_column(
            sa.Column('feed_version', sa.Integer(), nullable=False, server_default='1')
        )
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('why', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('why')
    with op.batch_alter_table('subscribers') as batch:
        batch.drop_column('feed_version')
