"""truth: items never sent read "not sent"; idempotency keys of actions on deletions

Before, an item dropped before sending (undo, cancel, stop) and one in a queued operation
cancelled upstream both had the outcome `cancelled`; the first kind has no operation.
`idempotency_keys`: an action (retry, restore, undo, pause, resume, cancel) submitted twice
with the same key is done once and answered the same.

Revision ID: truth_0002
Revises: faults_0001
Create Date: 2026-12-07 14:30:00

"""
import sqlalchemy as sa

import wesog_dash.models.types
from alembic import op


# revision identifiers, used by Alembic.
revision = 'truth_0002'
down_revision = 'faults_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('digest'),
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)
    op.execute(
        "UPDATE deletion_items SET outcome = 'not_sent' "
        "WHERE outcome = 'cancelled' AND op_id IS NULL"
    )


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')
    op.drop_table('idempotency_keys')
    op.execute("UPDATE deletion_items SET outcome = 'cancelled' WHERE outcome = 'not_sent'")
