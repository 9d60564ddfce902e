"""truth: items never handed to the API read "not sent", apart from those cancelled upstream

Before, an item dropped before sending (undo, cancel, stop) and one in a queued operation
cancelled upstream both had the outcome `cancelled`; the first kind has no operation.

Revision ID: truth_0002
Revises: live_0001
Create Date: 2026-12-07 14:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'truth_0002'
down_revision = 'live_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE deletion_items SET outcome = 'not_sent' "
        "WHERE outcome = 'cancelled' AND op_id IS NULL"
    )


def downgrade():
    op.execute("UPDATE deletion_items SET outcome = 'cancelled' WHERE outcome = 'not_sent'")
