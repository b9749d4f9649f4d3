"""feedback_examples: clicks become examples the ranker learns from; learned phrases dropped

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:00:00.000000

Until now a "more / less like this" click edited the subscriber's interests: it added key phrases
of the paper as topics (weight 0.5), muted a phrase, unmuted one, and moved topic weights between
0.1 and 3. Each click logged a ``feedback`` event in ``subscriber_events`` whose detail names the
paper, the direction ``d`` and exactly what it changed (``added``, ``muted``, ...).

How learned phrases are told from typed ones: a topic is learned when some feedback event of that
subscriber lists it in ``added``, a mute when one lists it in ``muted`` (a click only ever added a
phrase that was not already an interest, so these are the clicks' own). Those rows are deleted;
every remaining interest gets weight 1.0 again (only clicks ever moved a weight). Phrases that a
click unmuted stay unmuted: "more like this" on a paper was the person's latest word on it.
Each (subscriber, paper) that was clicked becomes one example with the latest click's direction
and time, when the paper is still in the store. Downgrading drops the examples and does not bring
learned phrases back.
"""

from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('feedback_examples',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('subscriber_id', BigId, nullable=False),
    sa.Column('paper_id', sa.String(length=64), nullable=False),
    sa.Column('vote', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_feedback_examples_paper_id_papers'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_feedback_examples_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_examples')),
    sa.UniqueConstraint('subscriber_id', 'paper_id', name=op.f('uq_feedback_examples_subscriber_id_paper_id'))
    )
    op.create_index(op.f('ix_feedback_examples_paper_id'), 'feedback_examples', ['paper_id'], unique=False)
    _migrate_clicks()


def downgrade() -> None:
    op.drop_index(op.f('ix_feedback_examples_paper_id'), table_name='feedback_examples')
    op.drop_table('feedback_examples')


_events = sa.table(
    'subscriber_events',
    sa.column('id', BigId),
    sa.column('subscriber_id', BigId),
    sa.column('kind', sa.String),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('detail', sa.JSON),
)
_interests = sa.table(
    'interests',
    sa.column('subscriber_id', BigId),
    sa.column('kind', sa.String),
    sa.column('phrase', sa.Text),
    sa.column('weight', sa.Float),
)
_papers = sa.table('papers', sa.column('id', sa.String))
_examples = sa.table(
    'feedback_examples',
    sa.column('subscriber_id', BigId),
    sa.column('paper_id', sa.String),
    sa.column('vote', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def _migrate_clicks() -> None:
    bind = op.get_bind()
    learned: set[tuple[int, str, str]] = set()  # (subscriber, kind, phrase)
    latest: dict[tuple[int, str], tuple[int, Any]] = {}  # (subscriber, paper) -> (vote, at)
    rows = bind.execute(
        sa.select(_events.c.subscriber_id, _events.c.at, _events.c.detail)
        .where(_events.c.kind == 'feedback', _events.c.subscriber_id.is_not(None))
        .order_by(_events.c.id)
    )
    for subscriber_id, at, detail in rows:
        detail = detail if isinstance(detail, dict) else {}
        for phrase in detail.get('added') or ():
            learned.add((subscriber_id, 'topic', str(phrase)))
        for phrase in detail.get('muted') or ():
            learned.add((subscriber_id, 'mute', str(phrase)))
        paper, direction = detail.get('paper'), detail.get('d')
        if isinstance(paper, str) and direction in (1, -1):
            latest[(subscriber_id, paper)] = (direction, at)
    for subscriber_id, kind, phrase in learned:
        bind.execute(
            sa.delete(_interests).where(
                _interests.c.subscriber_id == subscriber_id,
                _interests.c.kind == kind,
                _interests.c.phrase == phrase,
            )
        )
    bind.execute(sa.update(_interests).where(_interests.c.weight != 1.0).values(weight=1.0))
    wanted = sorted({paper for _, paper in latest})
    known: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        known.update(bind.execute(sa.select(_papers.c.id).where(_papers.c.id.in_(chunk))).scalars())
    examples = [
        {'subscriber_id': s, 'paper_id': p, 'vote': vote, 'created_at': at}
        for (s, p), (vote, at) in latest.items()
        if p in known
    ]
    if examples:
        bind.execute(sa.insert(_examples), examples)
