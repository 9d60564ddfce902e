"""What an image looked like before we deleted it: the metadata a restore re-adds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow


class ImageSnapshot(Model):
    """One image's full metadata (`GET /imgs/{id}`), read just before a deletion sent it.

    `data` is None when it could not be read (`problem` says why): that image cannot be
    restored. A restore records who asked and the `add` operation that carries it.
    """

    __tablename__ = "image_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    deletion_id: Mapped[int] = mapped_column(ForeignKey("deletion_requests.id"))
    image_id: Mapped[str] = mapped_column(String(256))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problem: Mapped[str | None] = mapped_column(Text)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restored_by: Mapped[str | None] = mapped_column(String(128))
    restore_op_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("operations.op_id"), index=True
    )

    restore_operation = relationship("Operation")

    __table_args__ = (
        Index("ix_image_snapshots_image", "image_id", "id"),
        # Outcomes look up one image of one deletion per item: by deletion alone, SQLite
        # scanned every snapshot of the deletion for each of a chunk's thousand items.
        Index("ix_image_snapshots_deletion_image", "deletion_id", "image_id"),
    )
