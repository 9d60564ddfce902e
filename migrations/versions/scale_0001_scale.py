"""scale: id selections, when an operation was last viewed, the poller's 429 pause

id_selections / id_selection_items: the exact ids of a big deletion, resolved in the
background (a search) or parsed (pasted, uploaded), hashed before anything is sent.
operations.last_viewed_at: operations someone watches are refreshed first.
ix_deletion_items_unsent / _outcome: the next unsent chunk of a big request, and whether any
item is unsettled, without walking the 100,000 settled ones.
leases.paused_until: until when the API asked the poller to slow down (shown on pages).

Revision ID: scale_0001
Revises: 5187913fdfa3
Create Date: 2026-11-28 13:40:00

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'scale_0001'
down_revision = '5187913fdfa3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('id_selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('ids_sha256', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('finished_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_id_selections'))
    )
    with op.batch_alter_table('id_selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_id_selections_state'), ['state'], unique=False)

    op.create_table('id_selection_items',
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['selection_id'], ['id_selections.id'], name=op.f('fk_id_selection_items_selection_id_id_selections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('selection_id', 'position', name=op.f('pk_id_selection_items'))
    )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', wesog_dash.models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_viewed_at', wesog_dash.models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('deletion_items', schema=None) as batch_op:
        batch_op.create_index('ix_deletion_items_unsent', ['deletion_id', 'op_id', 'position'], unique=False)
        batch_op.create_index('ix_deletion_items_outcome', ['deletion_id', 'outcome'], unique=False)


def downgrade():
    with op.batch_alter_table('deletion_items', schema=None) as batch_op:
        batch_op.drop_index('ix_deletion_items_outcome')
        batch_op.drop_index('ix_deletion_items_unsent')

    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_column('last_viewed_at')

    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_column('paused_until')

    op.drop_table('id_selection_items')
    with op.batch_alter_table('id_selections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_id_selections_state'))

    op.drop_table('id_selections')
