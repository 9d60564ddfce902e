"""Full-text search of audit reasons: tables that live outside the models.

On SQLite an FTS5 table `audit_reason_fts` (external content: `audit_events`, kept by
triggers) indexes the reasons; on PostgreSQL an expression GIN index on
to_tsvector('simple', reason) does. Both are created by a migration, so autogenerate and the
models == migrations test must not mistake the FTS5 table and its shadow tables for strays.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "audit_reason_fts"
TS_CONFIG = "simple"  # no stemming, no stop words: reasons are short and often names or codes


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: leave the full-text tables and index to their migration."""
    if type_ == "table" and reflected and (name or "").startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == "ix_audit_reason_tsv")
