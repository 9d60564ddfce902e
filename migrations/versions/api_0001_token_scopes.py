"""api tokens: scope, label, expiry, revocation time

Tokens issued before this revision keep working until 90 days after this upgrade, with the
`operate` scope (they could do whatever their owner's role allowed, and still can).

Revision ID: api_0001
Revises: scale_0001
Create Date: 2026-11-28 13:20:00

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'api_0001'
down_revision = 'scale_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=16), nullable=False, server_default='operate'))
        batch_op.add_column(sa.Column('label', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('expires_at', wesog_dash.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', wesog_dash.models.types.UTCDateTime(), nullable=True))
    # Computed here rather than in SQL so that it reads the same on SQLite and PostgreSQL.
    expires = (datetime.now(UTC) + timedelta(days=90)).replace(tzinfo=None)
    op.get_bind().execute(
        sa.text("UPDATE api_tokens SET expires_at = :expires"), {"expires": expires}
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=wesog_dash.models.types.UTCDateTime(), nullable=False)
        batch_op.alter_column('scope', existing_type=sa.String(length=16), server_default=None)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('label')
        batch_op.drop_column('scope')
