"""Id selections: the exact list of image ids a big deletion is about to take, resolved (from a
search, in the background) or parsed (pasted, uploaded) and snapshotted before anything is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow

SELECTION_STATES = ("resolving", "ready", "failed")


class IdSelection(Model):
    """One list of ids waiting to be confirmed: its origin, progress and the hash of its ids."""

    __tablename__ = "id_selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # "query" | "list"
    query: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="resolving", index=True)
    expected: Mapped[int | None]  # the search's hit count, when the API gave one
    resolved: Mapped[int] = mapped_column(default=0)  # ids stored so far
    pages: Mapped[int] = mapped_column(default=0)  # search pages read so far
    ids_sha256: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdSelectionItem(Model):
    """One id of a selection, at its position."""

    __tablename__ = "id_selection_items"

    selection_id: Mapped[int] = mapped_column(
        ForeignKey("id_selections.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    image_id: Mapped[str] = mapped_column(String(256))
