"""metrics: per-minute and per-hour rollups of operations, indexes for deletion counters

metric_minutes / metric_hours / metric_days: counters and timing digests kept by the poller as operations
change (issue 12), filled for existing operations by `flask --app app metrics rebuild`.
ix_deletion_requests_created_state / _actor: deletions per period by outcome and by actor;
ix_deletion_items_settled_outcome: images deleted per period.

Revision ID: metrics_0001
Revises: prod_0002
Create Date: 2026-11-28 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'metrics_0001'
down_revision = 'prod_0002'
branch_labels = None
depends_on = None

# Frozen copy of wesog_dash.models.metrics at this revision.
BUCKETS = 50
COUNTERS = ("ops_finished", "ops_with_errors", "items_good", "items_bad")


def rollup_columns():
    columns = [sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTERS]
    for kind in ("idle", "exec"):
        columns.append(sa.Column(f"{kind}_sum_ms", sa.Float(), server_default="0", nullable=False))
        columns += [
            sa.Column(f"{kind}_b{i:02d}", sa.Integer(), server_default="0", nullable=False)
            for i in range(BUCKETS)
        ]
    return columns


def upgrade():
    for table, key in (("metric_minutes", "minute"), ("metric_hours", "hour"), ("metric_days", "day")):
        op.create_table(
            table,
            sa.Column(key, sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("method", sa.String(length=16), nullable=False),
            *rollup_columns(),
            sa.PrimaryKeyConstraint(key, "method", name=op.f(f"pk_{table}")),
        )
    with op.batch_alter_table("deletion_requests", schema=None) as batch_op:
        batch_op.create_index("ix_deletion_requests_created_state", ["created_at", "state"], unique=False)
        batch_op.create_index("ix_deletion_requests_created_actor", ["created_at", "actor", "item_count"], unique=False)
    with op.batch_alter_table("deletion_items", schema=None) as batch_op:
        batch_op.create_index("ix_deletion_items_settled_outcome", ["settled_at", "outcome"], unique=False)


def downgrade():
    with op.batch_alter_table("deletion_items", schema=None) as batch_op:
        batch_op.drop_index("ix_deletion_items_settled_outcome")
    with op.batch_alter_table("deletion_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_deletion_requests_created_actor")
        batch_op.drop_index("ix_deletion_requests_created_state")
    op.drop_table("metric_days")
    op.drop_table("metric_hours")
    op.drop_table("metric_minutes")
