"""Deletion requests (one user intent) and their items (one image id each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

# The states of a deletion request; deletions/lifecycle.py holds their meanings and every
# transition between them (a test keeps the two in step).
DELETION_STATES = (
    "scheduled",
    "pending",
    "sending",
    "submitted",
    "unknown",
    "pausing",
    "paused",
    "cancelling",
    "stopping",
    "done",
    "done_with_errors",
    "rejected",
    "cancelled",
    "stopped",
    "awaiting_approval",  # nothing is sent until a second person approves (deletions/approval)
)
FINAL_DELETION_STATES = ("done", "done_with_errors", "rejected", "cancelled", "stopped")
# "not_sent": never handed to the API (undone, cancelled or stopped first); "cancelled": in a
# queued operation cancelled upstream before it ran; "sending": in the chunk on its way.
ITEM_OUTCOMES = (
    "pending",
    "sending",
    "deleted",
    "failed",
    "not_found",
    "unknown",
    "not_sent",
    "cancelled",
)


class DeletionRequest(Model):
    """Who asked to delete which images, when, why and with what options."""

    __tablename__ = "deletion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(128))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    ticket: Mapped[str | None] = mapped_column(String(128))
    do_wait: Mapped[bool] = mapped_column(default=False)
    do_urgent: Mapped[bool] = mapped_column(default=False)
    do_strict: Mapped[bool] = mapped_column(default=False)
    selection_kind: Mapped[str] = mapped_column(String(16), default="single")
    selection_query: Mapped[str | None] = mapped_column(Text)
    item_count: Mapped[int] = mapped_column(default=0)
    ids_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24), default="pending", index=True)
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The safety net: the undo window, the retry link and the failure threshold of this request.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("deletion_requests.id"), index=True)
    stop_ratio: Mapped[float | None]
    stop_min_items: Mapped[int | None]
    # Delete only what can be restored: items whose metadata could not be kept are not sent.
    restorable_only: Mapped[bool] = mapped_column(default=False, server_default=false())

    items: Mapped[list[DeletionItem]] = relationship(
        back_populates="deletion", order_by="DeletionItem.position", cascade="all, delete-orphan"
    )
    operations = relationship("Operation", back_populates="deletion", order_by="Operation.op_id")
    user = relationship("User")
    retry_of = relationship("DeletionRequest", remote_side=[id], back_populates="retries")
    retries = relationship(
        "DeletionRequest", back_populates="retry_of", order_by="DeletionRequest.id"
    )

    @property
    def is_live(self) -> bool:
        """True while something can still change: not final, or an operation still runs."""
        if self.state not in FINAL_DELETION_STATES:
            return True
        return any(not op.is_finished for op in self.operations)

    # The overview's counters and reports group a period's requests by state and by actor.
    __table_args__ = (
        Index("ix_deletion_requests_created_state", "created_at", "state"),
        Index("ix_deletion_requests_created_actor", "created_at", "actor", "item_count"),
        Index("ix_deletion_requests_finished", "finished_at"),  # alerts look at recent ends
    )


class DeletionItem(Model):
    """One image id inside a deletion request, and what became of it."""

    __tablename__ = "deletion_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    deletion_id: Mapped[int] = mapped_column(ForeignKey("deletion_requests.id"), index=True)
    position: Mapped[int]
    image_id: Mapped[str] = mapped_column(String(256))
    op_id: Mapped[int | None] = mapped_column(ForeignKey("operations.op_id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    message: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True when the outcome was read from the image's current state, not from an operation
    # known to be ours: "deleted (operation unknown)" or "not deleted" (offered for retry).
    inferred: Mapped[bool] = mapped_column(default=False, server_default=false())

    deletion: Mapped[DeletionRequest] = relationship(back_populates="items")

    __table_args__ = (
        Index("ix_deletion_items_image", "image_id", "id"),
        # A request of 100,000 items: its next unsent chunk (op_id IS NULL, in position order)
        # and whether any item is unsettled are found without walking the settled ones.
        Index("ix_deletion_items_unsent", "deletion_id", "op_id", "position"),
        Index("ix_deletion_items_outcome", "deletion_id", "outcome"),
        Index("ix_deletion_items_settled_outcome", "settled_at", "outcome"),
    )
