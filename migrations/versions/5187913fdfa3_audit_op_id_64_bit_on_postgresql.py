"""audit_events.op_id holds 64-bit operation ids on PostgreSQL too

operations.op_id is a BIGINT; the audit log's copy of it was a 32-bit INTEGER. SQLite's
INTEGER already holds 64 bits, so there the column stays as it is (changing its declared
type would rebuild the whole audit table for nothing); PostgreSQL's becomes a BIGINT.

Revision ID: 5187913fdfa3
Revises: truth_0001
Create Date: 2026-11-29 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = '5187913fdfa3'
down_revision = 'truth_0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "audit_events", "op_id", type_=sa.BigInteger(), existing_type=sa.Integer(),
        existing_nullable=True,
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "audit_events", "op_id", type_=sa.Integer(), existing_type=sa.BigInteger(),
        existing_nullable=True,
    )
