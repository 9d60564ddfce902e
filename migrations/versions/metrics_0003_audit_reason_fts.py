"""metrics: full-text search of audit reasons (SQLite FTS5, PostgreSQL tsvector)

SQLite: an FTS5 table over audit_events.reason (external content, so the text is stored once),
kept by triggers on insert, update and delete (so `audit prune` removes what it prunes), filled
from the existing events. PostgreSQL: a GIN index on to_tsvector('simple', reason).

Revision ID: metrics_0003
Revises: metrics_0002
Create Date: 2026-11-28 13:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'metrics_0003'
down_revision = 'metrics_0002'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE audit_reason_fts USING fts5("
    "reason, content='audit_events', content_rowid='id')",
    "CREATE TRIGGER audit_reason_fts_insert AFTER INSERT ON audit_events "
    "WHEN new.reason IS NOT NULL BEGIN "
    "INSERT INTO audit_reason_fts(rowid, reason) VALUES (new.id, new.reason); END",
    "CREATE TRIGGER audit_reason_fts_delete AFTER DELETE ON audit_events "
    "WHEN old.reason IS NOT NULL BEGIN "
    "INSERT INTO audit_reason_fts(audit_reason_fts, rowid, reason) "
    "VALUES ('delete', old.id, old.reason); END",
    "CREATE TRIGGER audit_reason_fts_update AFTER UPDATE OF reason ON audit_events BEGIN "
    "INSERT INTO audit_reason_fts(audit_reason_fts, rowid, reason) "
    "SELECT 'delete', old.id, old.reason WHERE old.reason IS NOT NULL; "
    "INSERT INTO audit_reason_fts(rowid, reason) "
    "SELECT new.id, new.reason WHERE new.reason IS NOT NULL; END",
    "INSERT INTO audit_reason_fts(rowid, reason) "
    "SELECT id, reason FROM audit_events WHERE reason IS NOT NULL",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_reason_fts_update",
    "DROP TRIGGER IF EXISTS audit_reason_fts_delete",
    "DROP TRIGGER IF EXISTS audit_reason_fts_insert",
    "DROP TABLE IF EXISTS audit_reason_fts",
]
POSTGRESQL_UP = [
    "CREATE INDEX ix_audit_reason_tsv ON audit_events "
    "USING GIN (to_tsvector('simple', coalesce(reason, '')))",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_audit_reason_tsv"]


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []):
        op.execute(statement)
