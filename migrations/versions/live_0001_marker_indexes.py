"""live lists: an index on when operations were first seen, for the "nothing changed" marker

The marker of polled lists counted every operation (a full scan: 220 ms at 1,000,000 rows,
on every poll of every open list); the newest `first_seen_at` tells the same — a row
appeared — through this index.

Revision ID: live_0001
Revises: safety_0001
Create Date: 2026-11-28 17:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'live_0001'
down_revision = 'safety_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.create_index('ix_operations_first_seen', ['first_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_index('ix_operations_first_seen')
