"""A lease row so that exactly one poller runs across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime


class Lease(Model):
    """Who holds a named lease, until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Until when the API asked the holder to slow down (a 429's Retry-After), for the pages.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The holder's upstream pace (calls per second) and why it is what it is, for the pages.
    pace_per_second: Mapped[float | None]
    pace_reason: Mapped[str | None] = mapped_column(String(24))
    # +1 on every change of holder: a write fenced by (holder, generation) fails once the
    # lease moved on, even if the old holder takes it back later.
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the holder last finished a cycle: nothing has polled since (pages, /readyz, alert).
    cycle_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
