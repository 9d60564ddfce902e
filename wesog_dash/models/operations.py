"""Upstream operations as we last saw them, and their progress samples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

# Display states, derived from the upstream fields and our own bookkeeping.
# "missing": the API answers 404 for it (not found upstream), still asked now and then;
# "lost": it has answered 404 for WESOG_LOST_AFTER seconds (lost upstream), never asked again.
# "cancelled": cancelled upstream before it started (every element `msg: "cancelled"`).
OP_STATES = (
    "queued",
    "running",
    "finished",
    "finished_with_errors",
    "stale",
    "unknown",
    "missing",
    "lost",
    "cancelled",
)
FINAL_OP_STATES = ("finished", "finished_with_errors", "lost", "cancelled")
CANCELLED_MSG = "cancelled"  # the element message of a cancelled operation (wesog-api.md #17)


def was_cancelled(is_started: bool, is_finished: bool, num_good: int, errors: Any) -> bool:
    """True for an operation cancelled upstream before it ran: finished, never started, and
    every element it names failed with the message "cancelled" (neither good nor bad)."""
    if not is_finished or is_started or num_good or not errors:
        return False
    return all(isinstance(e, dict) and e.get("msg") == CANCELLED_MSG for e in errors)


OP_ORIGINS = ("dashboard", "tracked", "imported", "discovered")


class Operation(Model):
    """One upstream operation, keyed by its Wesog op_id.

    An op id the API reuses (it restarted and counts from 1 again: another `created_at`) is
    another operation: the older row is *retired* to a negative key (never an upstream id),
    keeping its items, samples and owner, with `upstream_op_id` holding the number it had.
    """

    __tablename__ = "operations"

    op_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Upstream fields (wesog-api.md §3)
    method: Mapped[str | None] = mapped_column(String(16))
    resource: Mapped[str | None] = mapped_column(String(16))
    num_total: Mapped[int] = mapped_column(default=0)
    num_good: Mapped[int] = mapped_column(default=0)
    num_bad: Mapped[int] = mapped_column(default=0)
    is_started: Mapped[bool] = mapped_column(default=False)
    is_finished: Mapped[bool] = mapped_column(default=False)
    all_good: Mapped[bool | None]
    do_wait: Mapped[bool] = mapped_column(default=False)
    do_urgent: Mapped[bool] = mapped_column(default=False)
    do_strict: Mapped[bool] = mapped_column(default=False)
    idle_ms: Mapped[float] = mapped_column(default=0.0)
    exec_ms: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Our bookkeeping
    origin: Mapped[str] = mapped_column(String(16), default="dashboard")
    state: Mapped[str] = mapped_column(String(24), default="unknown", index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a page last showed it (kept coarse): watched operations are refreshed first.
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    poll_failures: Mapped[int] = mapped_column(default=0)
    last_poll_error: Mapped[str | None] = mapped_column(Text)
    outcomes_applied: Mapped[bool] = mapped_column(default=False)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion_requests.id"), index=True)
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first 404 of a run
    upstream_op_id: Mapped[int | None] = mapped_column(BigInteger)  # set on retired rows only

    deletion = relationship("DeletionRequest", back_populates="operations")
    samples: Mapped[list[OperationSample]] = relationship(
        back_populates="operation", order_by="OperationSample.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_operations_created", "created_at"),
        # The live lists' marker: the newest row, without counting a million of them.
        Index("ix_operations_first_seen", "first_seen_at"),
    )

    @property
    def upstream_id(self) -> int:
        """The op id upstream gave it (a retired row's key is not)."""
        return self.upstream_op_id if self.upstream_op_id is not None else self.op_id

    @property
    def cancelled_upstream(self) -> bool:
        """True when upstream cancelled it before it ran: its elements are neither good nor bad."""
        return was_cancelled(self.is_started, self.is_finished, self.num_good, self.errors)


class OperationSample(Model):
    """One observed change of an operation's progress: the points of its curve."""

    __tablename__ = "operation_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    op_id: Mapped[int] = mapped_column(ForeignKey("operations.op_id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    num_good: Mapped[int]
    num_bad: Mapped[int]
    is_started: Mapped[bool]
    is_finished: Mapped[bool]

    operation: Mapped[Operation] = relationship(back_populates="samples")
