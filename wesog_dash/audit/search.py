"""The reason search of the audit log: words and prefixes through the full-text index.

`dmca licen*` finds the events whose reason holds the word "dmca" and a word starting with
"licen" (any case). SQLite answers from the FTS5 table `audit_reason_fts`, PostgreSQL from
the GIN index on to_tsvector('simple', reason) — both made by migration metrics_0003. Text
with punctuation ("100%", "m_a") keeps the old meaning, a literal substring (a scan).
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, select, text

from ..extensions import db
from ..models import AuditEvent
from ..models.search import FTS_TABLE, TS_CONFIG

TOKEN = re.compile(r"([^\W_]+)(\*?)")
MAX_TOKENS = 12


def tokens(query: str) -> list[tuple[str, bool]]:
    """The words of `query` and whether each is a prefix (`word*`), lower-cased."""
    return [(word.lower(), star == "*") for word, star in TOKEN.findall(query)][:MAX_TOKENS]


def escape_like(value: str) -> str:
    """Make %, _ and the escape character itself match literally in LIKE."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substring(query: str) -> ColumnElement[bool]:
    """The reason contains `query` (case-insensitive LIKE): a scan, but exact."""
    return AuditEvent.reason.like(f"%{escape_like(query)}%", escape="\\")


def fts_condition(words: list[tuple[str, bool]]) -> ColumnElement[bool]:
    """Events whose reason holds every word (prefix words as prefixes), from the index."""
    if db.session.get_bind().dialect.name == "postgresql":
        terms = " & ".join(f"{word}:*" if prefix else word for word, prefix in words)
        vector = func.to_tsvector(TS_CONFIG, func.coalesce(AuditEvent.reason, ""))
        return vector.op("@@")(func.to_tsquery(TS_CONFIG, terms))
    expression = " ".join(f'"{word}"' + ("*" if prefix else "") for word, prefix in words)
    matching = (
        select(text("rowid"))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=expression))
    )
    return AuditEvent.id.in_(matching)


def reason_condition(query: str) -> ColumnElement[bool]:
    """The audit filter for `q`: full-text words and prefixes; text with punctuation is
    matched literally as a substring (a scan), as before the index existed."""
    words = tokens(query)
    plain = all(
        part.isalnum() or (part.endswith("*") and part[:-1].isalnum()) for part in query.split()
    )
    return fts_condition(words) if words and plain else substring(query)
