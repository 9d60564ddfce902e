"""The lease row that lets exactly one poller run across processes; the others stand by."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Lease, utcnow

LEASE_NAME = "poller"
DEFAULT_TTL = 10.0


def new_holder_id() -> str:
    """hostname:pid:random — unique per poller instance, readable by an operator."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Takes, renews and releases the named lease for one holder (call inside an app context)."""

    def __init__(self, holder: str, ttl: float = DEFAULT_TTL, name: str = LEASE_NAME) -> None:
        self.holder = holder
        self.ttl = ttl
        self.name = name
        self.until: datetime | None = None  # our lease's expiry, when we hold it
        self.other: str | None = None  # the live holder we stand by for

    def acquire(self) -> bool:
        """Take or renew the lease when free, expired or ours; commits. True when we hold it."""
        now = utcnow()
        if self.until is not None and (self.until - now).total_seconds() > self.ttl / 2:
            return True  # renewed recently: spare the database a write per cycle
        until = now + timedelta(seconds=self.ttl)
        free_or_ours = or_(Lease.holder == self.holder, Lease.expires_at <= now)
        result = db.session.execute(
            update(Lease)
            .where(Lease.name == self.name, free_or_ours)
            .values(holder=self.holder, expires_at=until)
        )
        if getattr(result, "rowcount", 0) == 1:
            db.session.commit()
            return self._held(until)
        current = db.session.get(Lease, self.name)
        if current is not None:
            self.other = current.holder
            db.session.rollback()
            return self._lost()
        db.session.add(Lease(name=self.name, holder=self.holder, expires_at=until))
        try:
            db.session.commit()
        except IntegrityError:  # another process inserted it first
            db.session.rollback()
            return self._lost()
        return self._held(until)

    def _held(self, until: datetime) -> bool:
        self.until, self.other = until, None
        return True

    def _lost(self) -> bool:
        self.until = None
        return False

    def release(self) -> None:
        """Give the lease up so that a stand-by poller takes over at once; commits."""
        db.session.execute(
            delete(Lease).where(Lease.name == self.name, Lease.holder == self.holder)
        )
        db.session.commit()
        self.until = None


def record_pause(until: datetime | None, name: str = LEASE_NAME) -> None:
    """Write until when the API asked the poller to slow down (None: no pause); commits."""
    db.session.execute(update(Lease).where(Lease.name == name).values(paused_until=until))
    db.session.commit()


def pause_shown(name: str = LEASE_NAME) -> datetime | None:
    """Until when the poller was asked to slow down, if that is still ahead."""
    lease = db.session.get(Lease, name)
    until = lease.paused_until if lease is not None else None
    return until if until is not None and until > utcnow() else None
