"""private_examples: seeds that match no stored paper are kept with the subscriber, not in papers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:30:00.000000

Until now a seed list (signup form, preferences page, `digest subscribers seed`) added each paper
it gave with a title and an abstract to the shared ``papers`` table: ``sources`` ["seed"] and
``first_seen`` 1970-01-01, and liked it (a ``feedback_examples`` row). From now on such a seed is a
private example of that subscriber (``private_examples``) and only sources write ``papers``.

Moved here: every paper whose only source is "seed" (no source ever saw it). Each example on it
becomes a private example of the same subscriber, vote and time, with the paper's title,
abstract, authors and arXiv id; then the paper, its examples and any delivery memory of it are
deleted. A paper that a source has also seen ("seed" among other sources) stays: it keeps its
"seed" mark, so the next sighting by a source replaces the typed title, authors and abstract and
its 1970 first-seen time (digest.paper_store.source_wins). Downgrading drops private examples
(their text is not put back into ``papers``).
"""

from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SEED = 'seed'


def upgrade() -> None:
    op.create_table('private_examples',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('subscriber_id', BigId, nullable=False),
    sa.Column('title_key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('abstract', sa.Text(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('arxiv', sa.String(length=32), nullable=True),
    sa.Column('vote', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_private_examples_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_private_examples')),
    sa.UniqueConstraint('subscriber_id', 'title_key', name=op.f('uq_private_examples_subscriber_id_title_key')),
    sqlite_autoincrement=True,
    )
    _move_seeded_papers()


def downgrade() -> None:
    op.drop_table('private_examples')


_papers = sa.table(
    'papers',
    sa.column('id', sa.String),
    sa.column('title_key', sa.String),
    sa.column('title', sa.Text),
    sa.column('abstract', sa.Text),
    sa.column('authors', sa.JSON),
    sa.column('sources', sa.JSON),
)
_examples = sa.table(
    'feedback_examples',
    sa.column('subscriber_id', BigId),
    sa.column('paper_id', sa.String),
    sa.column('vote', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
_delivered = sa.table('delivered_papers', sa.column('paper_id', sa.String))
_private = sa.table(
    'private_examples',
    sa.column('subscriber_id', BigId),
    sa.column('title_key', sa.String),
    sa.column('title', sa.Text),
    sa.column('abstract', sa.Text),
    sa.column('authors', sa.JSON),
    sa.column('arxiv', sa.String),
    sa.column('vote', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def _move_seeded_papers() -> None:
    connection = op.get_bind()
    seeded: list[Any] = [
        row
        for row in connection.execute(sa.select(_papers))
        if list(row.sources or []) == [SEED]
    ]
    for paper in seeded:
        examples = connection.execute(
            sa.select(_examples).where(_examples.c.paper_id == paper.id)
        ).all()
        rows = [
            {
                'subscriber_id': e.subscriber_id,
                'title_key': paper.title_key,
                'title': paper.title,
                'abstract': paper.abstract or '',
                'authors': list(paper.authors or []),
                'arxiv': None if paper.id.startswith('t:') else paper.id,
                'vote': e.vote,
                'created_at': e.created_at,
            }
            for e in examples
        ]
        if rows:
            connection.execute(sa.insert(_private), rows)
        connection.execute(sa.delete(_examples).where(_examples.c.paper_id == paper.id))
        connection.execute(sa.delete(_delivered).where(_delivered.c.paper_id == paper.id))
        connection.execute(sa.delete(_papers).where(_papers.c.id == paper.id))
