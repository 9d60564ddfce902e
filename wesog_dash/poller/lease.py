"""The lease row that lets exactly one poller run across processes; the others stand by.

Each change of holder increments the row's `generation`. The holder keeps (holder,
generation) as its fencing token: `check` (before every upstream call, renewing the lease
while a long cycle runs) and `fence.py` (at every commit) refuse to act once the row names
another holder or generation, so a poller that lost the lease changes nothing.

Clocks: on PostgreSQL the row's expiry is written and compared with the database's own clock
(`now()`), so pollers on hosts whose clocks disagree, or a clock stepped by an hour, neither
take a live lease nor lose their own; on SQLite (one host) the process's clock is used. When
to renew is judged by this process's monotonic clock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from ..config import Settings
from ..database import discard, limit_lock_wait
from ..extensions import db
from ..models import Lease, utcnow

log = logging.getLogger(__name__)
LEASE_NAME = "poller"
DEFAULT_TTL = 10.0
LOCKED = "unknown: the lease row is locked by a poller that does not answer"


def transaction_limits(config: Settings, ttl: float) -> tuple[float, float]:
    """(idle-in-transaction timeout, takeover lock wait) in seconds, each well below the TTL.

    A frozen holder's transaction is ended by PostgreSQL after the first, so the lock it held
    on the lease row cannot outlive its lease; a stand-by's takeover waits at most the second.
    """
    limits = []
    for name, value in (
        ("WESOG_POLLER_IDLE_TX_TIMEOUT", config.poller_idle_tx_timeout),
        ("WESOG_POLLER_LOCK_TIMEOUT", config.poller_lock_timeout),
    ):
        seconds = ttl / 3 if value is None else float(value)
        if not 0 < seconds < ttl:
            raise ValueError(f"{name} must be more than 0 and less than WESOG_LEASE_TTL ({ttl} s)")
        limits.append(seconds)
    return limits[0], limits[1]


def new_holder_id() -> str:
    """hostname:pid:random — unique per poller instance, readable by an operator."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Takes, renews and releases the named lease for one holder (call inside an app context)."""

    def __init__(
        self,
        holder: str,
        ttl: float = DEFAULT_TTL,
        name: str = LEASE_NAME,
        lock_timeout: float | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.holder = holder
        self.clock = clock  # the wall clock where the database has none of its own (SQLite)
        self.ttl = ttl
        self.lock_timeout = lock_timeout if lock_timeout is not None else ttl / 3
        self.name = name
        self.until: float | None = None  # our lease's expiry (monotonic), when we hold it
        self.other: str | None = None  # the live holder we stand by for
        self.generation: int | None = None  # our fencing token while we hold the lease
        self._lock = threading.Lock()  # check() runs in several poll threads at once

    def acquire(self) -> bool:
        """Take or renew the lease when free, expired or ours; commits. True when we hold it."""
        if self.until is not None and self.until - time.monotonic() > self.ttl / 2:
            return True  # renewed recently: spare the database a write per cycle
        try:
            return self._take()
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                raise
            # The row stayed locked past lock_timeout (a frozen holder's transaction, which
            # PostgreSQL ends after its idle timeout), or our connection ended: not this time.
            discard(db.session)
            log.warning("poller lease not taken this round: %s", str(exc.orig).splitlines()[0])
            self.other = LOCKED
            return False

    def times(self, dialect: str) -> tuple[Any, Any]:
        """(now, now + TTL) for the lease row: the database's clock on PostgreSQL."""
        if dialect == "postgresql":
            return func.now(), func.now() + timedelta(seconds=self.ttl)
        now = self.clock()
        return now, now + timedelta(seconds=self.ttl)

    def _take(self) -> bool:
        now, until = self.times(db.session.get_bind().dialect.name)
        free_or_ours = or_(Lease.holder == self.holder, Lease.expires_at <= now)
        taken_over = case((Lease.holder == self.holder, 0), else_=1)
        limit_lock_wait(db.session, self.lock_timeout)
        result = db.session.execute(
            update(Lease)
            .where(Lease.name == self.name, free_or_ours)
            .values(holder=self.holder, expires_at=until, generation=Lease.generation + taken_over)
        )
        if getattr(result, "rowcount", 0) == 1:
            generation = db.session.scalar(select(Lease.generation).where(Lease.name == self.name))
            db.session.commit()
            return self._held(generation)
        current = db.session.get(Lease, self.name)
        if current is not None:
            self.other = current.holder
            db.session.rollback()
            return self._lost()
        db.session.add(Lease(name=self.name, holder=self.holder, expires_at=until, generation=1))
        try:
            db.session.commit()
        except IntegrityError:  # another process inserted it first
            db.session.rollback()
            return self._lost()
        return self._held(1)

    def _held(self, generation: int | None) -> bool:
        if generation != self.generation:
            self.generation = generation  # a new takeover: a new fencing token
        self.until, self.other = time.monotonic() + self.ttl, None
        return True

    def _lost(self) -> bool:
        self.until, self.generation = None, None
        return False

    def check(self) -> bool:
        """Is the lease still ours (same holder, same generation)? Renews it past half its
        time, so a long cycle keeps it. Uses its own connection: callers' transactions are
        untouched. False once lost; the poller then makes no call and no write."""
        with self._lock:
            if self.until is None or self.generation is None:
                return False
            table = Lease.__table__
            ours = (
                (table.c.name == self.name)
                & (table.c.holder == self.holder)
                & (table.c.generation == self.generation)
            )
            try:
                with db.engine.begin() as connection:
                    if self.until - time.monotonic() > self.ttl / 2:
                        found = connection.execute(select(table.c.name).where(ours)).first()
                        held = found is not None
                    else:
                        started, until = time.monotonic(), self.times(db.engine.dialect.name)[1]
                        renewed = connection.execute(
                            update(table).where(ours).values(expires_at=until)
                        )
                        held = renewed.rowcount == 1
                        self.until = started + self.ttl if held else self.until
            except SQLAlchemyError as exc:
                # Unverifiable (e.g. PostgreSQL ended this frozen process's transaction):
                # act as if lost; the next cycle's acquire() takes it back if still ours.
                log.warning("poller lease check failed: %s", str(exc).splitlines()[0])
                held = False
            return True if held else self._lost()

    def beat(self, now: datetime | None = None) -> bool:
        """Record that this holder finished a cycle (the heartbeat), in its own transaction;
        False when the lease is no longer ours or the database could not be reached."""
        if self.generation is None:
            return False
        table = Lease.__table__
        ours = (
            (table.c.name == self.name)
            & (table.c.holder == self.holder)
            & (table.c.generation == self.generation)
        )
        try:
            with db.engine.begin() as connection:
                done = connection.execute(
                    update(table).where(ours).values(cycle_at=now or utcnow())
                )
                return done.rowcount == 1
        except SQLAlchemyError as exc:
            log.warning("poller heartbeat not written: %s", str(exc).splitlines()[0])
            return False

    def release(self) -> None:
        """Give the lease up so that a stand-by poller takes over at once; commits.

        The row stays (expired), so the generation keeps counting up across holders.
        """
        now, _ = self.times(db.session.get_bind().dialect.name)
        db.session.execute(
            update(Lease)
            .where(Lease.name == self.name, Lease.holder == self.holder)
            .values(expires_at=now)
        )
        db.session.commit()
        self.until, self.generation = None, None


def record_pause(until: datetime | None, name: str = LEASE_NAME) -> None:
    """Write until when the API asked the poller to slow down (None: no pause); commits."""
    db.session.execute(update(Lease).where(Lease.name == name).values(paused_until=until))
    db.session.commit()


def record_pace(per_second: float, reason: str, name: str = LEASE_NAME) -> None:
    """Write the poller's upstream pace and its reason code (upstream/pace.py); commits."""
    values = {"pace_per_second": round(per_second, 1), "pace_reason": reason}
    db.session.execute(update(Lease).where(Lease.name == name).values(**values))
    db.session.commit()


def pace_shown(name: str = LEASE_NAME) -> tuple[float, str] | None:
    """The poller's upstream pace and reason code, while a poller holds the lease."""
    lease = db.session.get(Lease, name)
    if lease is None or lease.pace_per_second is None or lease.expires_at <= utcnow():
        return None
    return lease.pace_per_second, lease.pace_reason or ""


def pause_shown(name: str = LEASE_NAME) -> datetime | None:
    """Until when the poller was asked to slow down, if that is still ahead."""
    lease = db.session.get(Lease, name)
    until = lease.paused_until if lease is not None else None
    return until if until is not None and until > utcnow() else None
