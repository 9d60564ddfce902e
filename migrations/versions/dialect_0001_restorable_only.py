"""deletions: restorable_only, to delete only the images whose metadata was kept for a restore;
leases: the poller's upstream pace and why (shown on /ops and in /metrics)

Revision ID: dialect_0001
Revises: live_0001
Create Date: 2026-12-07 13:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'dialect_0001'
down_revision = 'live_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('restorable_only', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pace_per_second', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('pace_reason', sa.String(length=24), nullable=True))


def downgrade():
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_column('pace_reason')
        batch_op.drop_column('pace_per_second')
    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.drop_column('restorable_only')
