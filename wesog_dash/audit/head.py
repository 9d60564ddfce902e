"""Claiming the audit chain's head: the one lock that keeps concurrent writers on one chain.

Two writers that read the same head would both chain to it, and the log would fork. So a
writer claims the head row before it reads it and keeps it until its transaction ends:
a no-op `UPDATE … RETURNING`, the same statement on both engines. On PostgreSQL it takes the
row lock (like `SELECT … FOR UPDATE`); on SQLite, which has no row locks and whose reads lock
nothing, it takes the database's single write lock. A second writer waits there, then reads
the head the first one moved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text, update

from ..extensions import db
from ..models import AuditHead

HEAD_ID = 1
_HEAD = AuditHead.__table__


def claim_head() -> Row[Any] | None:
    """Lock the head row for this transaction and read it (`hash`, `at`); None when none."""
    claim = (
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(event_id=_HEAD.c.event_id)
        .returning(_HEAD.c.hash, _HEAD.c.at)
    )
    head = db.session.execute(claim).first()
    if head is None and db.session.get_bind().dialect.name == "postgresql":
        # No row to lock yet (an empty log, or a removed head): writers queue on the table
        # instead. This mode conflicts with itself only, not with the row writes around it.
        db.session.execute(text("LOCK TABLE audit_head IN SHARE UPDATE EXCLUSIVE MODE"))
        head = db.session.execute(claim).first()
    return head
