"""paper media: the project page and the preview image a source gives for a paper

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:45:00.000000

``papers.project_url`` is the authors' project page and ``papers.thumbnail_url`` a preview image
(Hugging Face daily papers give both); both https only, NULL when the source gives none.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('papers') as batch:
        batch.add_column(sa.Column('project_url', sa.Text(), nullable=True))
        batch.add_column(sa.Column('thumbnail_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('papers') as batch:
        batch.drop_column('thumbnail_url')
        batch.drop_column('project_url')
