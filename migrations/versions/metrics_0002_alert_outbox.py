"""metrics: the outbox of outgoing alerts, and an index on when deletions finished

alert_outbox: one row per alert (unique dedupe_key), delivered by the poller with retries.
ix_deletion_requests_finished: the alert scan looks at deletions that ended recently.

Revision ID: metrics_0002
Revises: metrics_0001
Create Date: 2026-11-28 13:35:00

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'metrics_0002'
down_revision = 'metrics_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('sent_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_alert_outbox_dedupe_key'))
    )
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_alert_outbox_state_next', ['state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.create_index('ix_deletion_requests_finished', ['finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('deletion_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_deletion_requests_finished')
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_outbox_state_next')
    op.drop_table('alert_outbox')
