"""Idempotency keys: an action submitted twice (a double click, a retried API call, parallel
requests) with the same key is done once, and every submission gets the first one's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class IdempotencyKey(Model):
    """One keyed action: who did what to which deletion, and its answer once it has one."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of (user, action, target, the client's key): the client's text is not kept.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None while it runs
