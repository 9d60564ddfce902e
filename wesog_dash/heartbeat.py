"""Is anything polling? The poller's heartbeat as pages, /readyz, /metrics and alerts read it.

The lease holder writes `leases.cycle_at` after every cycle it finishes (`poller/lease.py`).
A reader judges the heartbeat's age by its own monotonic clock from the moment it saw the
value change, so a wall clock stepped by an hour (here or on the poller's host) neither raises
a false warning nor hides a real one; only a first look trusts the wall clock. When no poller
has finished a cycle for WESOG_POLLER_STALE_AFTER seconds (default: three poll intervals, at
least the lease TTL),
every page shows what to start, /readyz answers 503, and one alert goes out per silence.

Imports `models`, `extensions` and `alerts`; never the poller or views.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import alerts
from .config import Settings, settings
from .extensions import db
from .models import Lease, utcnow

log = logging.getLogger(__name__)
EXTENSION = "wesog_heartbeat"
LEASE_NAME = "poller"
START_COMMAND = "flask --app app wesog poll"
UNSEEN = object()


@dataclass(frozen=True)
class Heartbeat:
    """What a reader knows of the poller's heartbeat."""

    mode: str  # WESOG_POLLER of this process: thread, external or off
    age: float | None  # seconds since a poller last finished a cycle; None: unknown
    limit: float  # seconds of silence after which nothing is polling
    last_at: datetime | None  # when that was, by the poller's clock (None: never)

    @property
    def stale(self) -> bool:
        """True when no poller has finished a cycle for `limit` seconds (never with off)."""
        return self.mode != "off" and self.age is not None and self.age > self.limit

    @property
    def reason(self) -> str:
        """One sentence for /readyz and the log."""
        if not self.stale:
            return "a poller finished a cycle lately"
        since = "since this process started" if self.last_at is None else "for"
        return (
            f"no poller has finished a cycle {since} {round(self.age or 0)} s: start "
            f"`{START_COMMAND}`, or run the console without WESOG_POLLER=external"
        )


class Watch:
    """One process's memory of the heartbeat: the value last seen and when it changed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = UNSEEN
        self.changed_at = self.looked_at = time.monotonic()
        self.base = 0.0  # the age the value already had when it was first seen
        self.alerted: set[str] = set()

    def age(self, value: datetime | None, wall_age: float | None) -> float:
        """Seconds since the heartbeat last moved, by this process's monotonic clock."""
        now = time.monotonic()
        with self.lock:
            if value != self.value:
                # It moved at most since our last look; a first look can only trust the wall.
                known = now - self.looked_at if self.value is not UNSEEN else float("inf")
                self.base = min(max(0.0, wall_age or 0.0), known) if value is not None else 0.0
                self.value, self.changed_at = value, now
            self.looked_at = now
            return self.base + (now - self.changed_at)

    def first_alert(self, key: str) -> bool:
        """True the first time this process is about to queue the alert `key`."""
        with self.lock:
            if key in self.alerted:
                return False
            self.alerted.add(key)
            return True


def stale_after(config: Settings) -> float:
    """Seconds of silence after which nothing is polling: by default three poll intervals,
    and at least the lease TTL (a busy cycle may take that long; a longer one loses the
    lease anyway)."""
    if config.poller_stale_after:
        return config.poller_stale_after
    return max(3 * config.poll_interval, config.lease_ttl)


def watch_of(app: Flask) -> Watch:
    """This app's memory of the heartbeat (made on first use)."""
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(EXTENSION, Watch())
    return found


def read(app: Flask) -> Heartbeat:
    """The heartbeat now (inside an app context); unknown when the database does not answer."""
    mode, limit = settings(app).poller, stale_after(settings(app))
    try:
        last_at = db.session.scalar(select(Lease.cycle_at).where(Lease.name == LEASE_NAME))
    except SQLAlchemyError:
        db.session.rollback()
        return Heartbeat(mode, None, limit, None)
    wall_age = (utcnow() - last_at).total_seconds() if last_at is not None else None
    return Heartbeat(mode, watch_of(app).age(last_at, wall_age), limit, last_at)


def check(app: Flask) -> Heartbeat:
    """`read`, and when nothing is polling: queue one alert for this silence and send it
    from here (the poller that would deliver it is the one that is silent)."""
    beat = read(app)
    if beat.stale and alerts.enabled():
        key = f"poller.stale:{beat.last_at.isoformat() if beat.last_at else 'never'}"
        if watch_of(app).first_alert(key):
            _queue_alert(app, key, beat)
    return beat


def _queue_alert(app: Flask, key: str, beat: Heartbeat) -> None:
    text = f"wesog-dash: {beat.reason}. Deletions wait and operations are not followed."
    details = {"last_cycle_at": beat.last_at.isoformat() if beat.last_at else None}
    try:
        added = alerts.queue("poller.stale", key, text, details)
        db.session.commit()
    except (IntegrityError, SQLAlchemyError):  # another process queued it first, or no db
        db.session.rollback()
        return
    if added:
        log.warning("queued an alert: %s", beat.reason)
        threading.Thread(target=_deliver, args=(app,), name="wesog-alert", daemon=True).start()


def _deliver(app: Flask) -> None:
    with app.app_context():
        try:
            alerts.deliver_due()
        except Exception:
            log.exception("could not deliver the poller alert")


class PageNotice:
    """For templates: the heartbeat, read (and alerted on) only when a page shows it."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @cached_property
    def beat(self) -> Heartbeat:
        """The heartbeat, read once per render."""
        return check(self.app)
