"""safety net: undo window, retry link, failure threshold, image snapshots

deletion_requests: send_at (the undo window), retry_of_id (a retry of the failures of another
request), stop_ratio / stop_min_items (the failure threshold asked for).
image_snapshots: each image's metadata read before it was sent for deletion, and its restore.

Revision ID: safety_0001
Revises: api_0001
Create Date: 2026-11-28 13:30:00

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'safety_0001'
down_revision = 'api_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_at', wesog_dash.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('retry_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stop_ratio', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('stop_min_items', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_deletion_requests_retry_of_id'), ['retry_of_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_deletion_requests_retry_of_id_deletion_requests'),
            'deletion_requests', ['retry_of_id'], ['id'],
        )

    op.create_table('image_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deletion_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.String(length=256), nullable=False),
    sa.Column('taken_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('restored_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('restored_by', sa.String(length=128), nullable=True),
    sa.Column('restore_op_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['deletion_id'], ['deletion_requests.id'], name=op.f('fk_image_snapshots_deletion_id_deletion_requests')),
    sa.ForeignKeyConstraint(['restore_op_id'], ['operations.op_id'], name=op.f('fk_image_snapshots_restore_op_id_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_snapshots'))
    )
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_snapshots_deletion_id'), ['deletion_id'], unique=False)
        batch_op.create_index('ix_image_snapshots_image', ['image_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_snapshots_restore_op_id'), ['restore_op_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_snapshots_taken_at'), ['taken_at'], unique=False)


def downgrade():
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_snapshots_taken_at'))
        batch_op.drop_index(batch_op.f('ix_image_snapshots_restore_op_id'))
        batch_op.drop_index('ix_image_snapshots_image')
        batch_op.drop_index(batch_op.f('ix_image_snapshots_deletion_id'))
    op.drop_table('image_snapshots')

    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deletion_requests_retry_of_id_deletion_requests'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deletion_requests_retry_of_id'))
        batch_op.drop_column('stop_min_items')
        batch_op.drop_column('stop_ratio')
        batch_op.drop_column('retry_of_id')
        batch_op.drop_column('send_at')
