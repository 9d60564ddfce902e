"""Retention policies (a saved search that the poller deletes on a schedule) and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

# awaiting_approval: new or changed, its dry run waits for someone other than its author.
POLICY_STATES = ("awaiting_approval", "active", "paused")
RUN_KINDS = ("dry_run", "scheduled", "manual")
RUN_OUTCOMES = ("dry_run", "started", "deleting", "nothing", "failed")


class RetentionPolicy(Model):
    """A rule: delete what this search matches, this often, at most this many at a time."""

    __tablename__ = "retention_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    query: Mapped[str] = mapped_column(Text)
    every_minutes: Mapped[int | None]
    cron: Mapped[str | None] = mapped_column(String(120))
    max_images: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # +1 on every change: approvals name it
    state: Mapped[str] = mapped_column(String(24), default="awaiting_approval", index=True)
    dry_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dry_run_count: Mapped[int | None]
    dry_run_ids: Mapped[list[str] | None] = mapped_column(JSON)
    dry_run_message: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_reason: Mapped[str | None] = mapped_column(Text)
    # Claimed by a conditional UPDATE (from the value read to the next slot): one run per slot.
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    runs: Mapped[list[PolicyRun]] = relationship(
        back_populates="policy", order_by="PolicyRun.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def schedule(self) -> str:
        """ "every 60 min" or "cron 0 3 * * *"."""
        return f"cron {self.cron}" if self.cron else f"every {self.every_minutes} min"


class PolicyRun(Model):
    """One run of a policy (or its dry run): what it matched and the deletion it made."""

    __tablename__ = "policy_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("retention_policies.id"))
    policy_version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the due time it claimed
    matched: Mapped[int | None]
    taken: Mapped[int] = mapped_column(default=0)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion_requests.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    first_ids: Mapped[list[Any] | None] = mapped_column(JSON)

    policy: Mapped[RetentionPolicy] = relationship(back_populates="runs")
    deletion = relationship("DeletionRequest")

    __table_args__ = (Index("ix_policy_runs_policy", "policy_id", "id"),)
