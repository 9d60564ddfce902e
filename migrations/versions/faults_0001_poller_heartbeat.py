"""faults: when the poller holding the lease last finished a cycle (its heartbeat)

Pages, /readyz, /metrics and an alert read it to say when nothing is polling.

Revision ID: faults_0001
Revises: guard_0001
Create Date: 2026-12-07 13:45:00

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types


# revision identifiers, used by Alembic.
revision = 'faults_0001'
down_revision = 'guard_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_at', wesog_dash.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_column('cycle_at')
