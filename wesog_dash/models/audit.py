"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import BigInt, UTCDateTime, utcnow


class AuditEvent(Model):
    """One thing that happened: who, when, from where, what, to what, why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    image_id: Mapped[str | None] = mapped_column(String(256))
    op_id: Mapped[int | None] = mapped_column(BigInt)
    deletion_id: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_actor_id", "actor", "id"),
        Index("ix_audit_action_id", "action", "id"),
        Index("ix_audit_image_id", "image_id", "id"),
        Index("ix_audit_op_id", "op_id", "id"),
        Index("ix_audit_deletion_id", "deletion_id", "id"),
        Index("ix_audit_at", "at"),
        Index("ix_audit_outcome_id", "outcome", "id"),
    )


class AuditHead(Model):
    """The newest event of the chain, moved by `audit.record()` in the same transaction.

    A hash chain alone cannot show that its newest events were deleted: what is left still
    links up. This one row remembers where the chain ended, and new events chain to it, so
    `audit verify` notices a cut tail (and events inserted behind the console's back).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: a single row
    event_id: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
