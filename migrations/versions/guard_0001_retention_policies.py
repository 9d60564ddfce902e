"""guard rails: retention policies and their runs

retention_policies: a saved search deleted on a schedule (every N minutes or a cron
expression), at most max_images a run; new or changed, it waits for another person to approve
its dry run. next_run_at is claimed by a conditional UPDATE, so one run happens per slot.
policy_runs: each dry run and run, with the deletion it made.

Revision ID: guard_0001
Revises: dialect_0001
Create Date: 2026-12-07 13:28:30

"""
from alembic import op
import sqlalchemy as sa
import wesog_dash.models.types  # noqa: F401  (custom column types in revisions)


# revision identifiers, used by Alembic.
revision = 'guard_0001'
down_revision = 'dialect_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retention_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=True),
    sa.Column('cron', sa.String(length=120), nullable=True),
    sa.Column('max_images', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('created_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('dry_run_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('dry_run_count', sa.Integer(), nullable=True),
    sa.Column('dry_run_ids', sa.JSON(), nullable=True),
    sa.Column('dry_run_message', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('approval_reason', sa.Text(), nullable=True),
    sa.Column('next_run_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_retention_policies_name'))
    )
    with op.batch_alter_table('retention_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_policies_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_retention_policies_state'), ['state'], unique=False)

    op.create_table('policy_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', wesog_dash.models.types.UTCDateTime(), nullable=False),
    sa.Column('slot_at', wesog_dash.models.types.UTCDateTime(), nullable=True),
    sa.Column('matched', sa.Integer(), nullable=True),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('deletion_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('first_ids', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['deletion_id'], ['deletion_requests.id'], name=op.f('fk_policy_runs_deletion_id_deletion_requests')),
    sa.ForeignKeyConstraint(['policy_id'], ['retention_policies.id'], name=op.f('fk_policy_runs_policy_id_retention_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_runs'))
    )
    with op.batch_alter_table('policy_runs', schema=None) as batch_op:
        batch_op.create_index('ix_policy_runs_policy', ['policy_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('policy_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_runs_policy')

    op.drop_table('policy_runs')
    with op.batch_alter_table('retention_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_policies_state'))
        batch_op.drop_index(batch_op.f('ix_retention_policies_next_run_at'))

    op.drop_table('retention_policies')