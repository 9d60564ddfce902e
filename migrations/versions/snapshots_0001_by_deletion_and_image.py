"""snapshots: looked up by deletion and image together

Settling a finished chunk asks, for each of its items, whether the metadata read found the
image missing. With an index on the deletion alone, SQLite scanned every snapshot of the
deletion for each item (10 million rows for a 10,000-id deletion).

Revision ID: snapshots_0001
Revises: truth_0002
Create Date: 2026-12-07 16:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'snapshots_0001'
down_revision = 'truth_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.create_index(
            'ix_image_snapshots_deletion_image', ['deletion_id', 'image_id'], unique=False
        )
        batch_op.drop_index('ix_image_snapshots_deletion_id')


def downgrade():
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_image_snapshots_deletion_id', ['deletion_id'], unique=False)
        batch_op.drop_index('ix_image_snapshots_deletion_image')
