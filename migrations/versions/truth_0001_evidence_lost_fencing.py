"""outcomes from evidence, lost operations, lease generation

deletion_items.inferred: the outcome was read from the image's state, not from our operation.
operations.missing_since / upstream_op_id: 404 runs (lost upstream), retired incarnations.
leases.generation: fences every write of the poller.

Revision ID: truth_0001
Revises: metrics_0003
Create Date: 2026-11-28 13:30:00

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'truth_0001'
down_revision = 'metrics_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deletion_items', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('inferred', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('missing_since', wesog_dash.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column('upstream_op_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('generation', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_column('generation')
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_column('upstream_op_id')
        batch_op.drop_column('missing_since')
    with op.batch_alter_table('deletion_items', schema=None) as batch_op:
        batch_op.drop_column('inferred')
