"""The poller: the only code that fetches `GET /ops/{op_id}`, plus the deletion dispatcher.

All of its state lives in the database (next_poll_at, poll_failures, deletion states), so a
new Poller resumes every unfinished operation and every pending/unknown deletion. A lease row
makes sure one poller works at a time across processes; the others stand by.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from flask import Flask
from sqlalchemy import func, literal, or_, select

from .. import alerts, deletions
from ..audit.digests import DigestSchedule
from ..extensions import db
from ..models import DeletionRequest, Operation, UTCDateTime, utcnow
from ..upstream import wesog_client
from .fence import LeaseLost, fenced
from .lease import DEFAULT_TTL, LeaseKeeper, new_holder_id
from .polling import fetch, store

log = logging.getLogger(__name__)
MAX_OPS_PER_CYCLE = 500
MIN_PAUSE = 0.05  # seconds: never spin, even when something is due at once
LONG_SENDERS = 2  # wait=true deletes block for a whole operation: at most this many at once


class Poller:
    """Polls due operations and dispatches due deletions, one cycle at a time."""

    def __init__(
        self,
        app: Flask,
        *,
        wake_event: threading.Event | None = None,
        lease_ttl: float = DEFAULT_TTL,
        holder: str | None = None,
    ) -> None:
        self.app = app
        self.lease = LeaseKeeper(holder or new_holder_id(), lease_ttl)
        self.wake_event = wake_event or threading.Event()
        self.holding = False
        workers = max(1, int(app.config["WESOG_POLL_CONCURRENCY"]))
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wesog-poll")
        self._long_sends: set[int] = set()
        self.digests = DigestSchedule()
        self._alerting = False
        self._lock = threading.Lock()

    @property
    def holder(self) -> str:
        """This poller's lease holder id (hostname:pid:random)."""
        return self.lease.holder

    def run_once(self) -> int:
        """One cycle: hold the lease, dispatch deletions, poll due operations; returns polls."""
        with self.app.app_context():
            self.holding = self.lease.acquire()
            if not self.holding:
                return 0
        self._in_context(deletions.settle_lost)
        with self.app.app_context():
            work = deletions.pending_work()
            waited = [i for i in work.pending if deletions.wants_wait(i)]
            due = self._due_operations()
        for deletion_id in waited:
            self._start_long_send(deletion_id)
        quick = [i for i in work.pending if i not in waited]
        self._all(deletions.send, quick)
        self._all(deletions.reconcile, work.unknown)
        wait([self.pool.submit(self._poll, op_id) for op_id in due])
        self._in_context(self.digests.run)  # the lease holder signs the audit head
        self._start_alerts()
        return len(due)

    def _start_alerts(self) -> None:
        """Scan for alerts and deliver them in a helper thread: the cycle never waits for it."""
        if not self.app.config.get("WESOG_ALERT_URL"):
            return
        with self._lock:
            if self._alerting:
                return  # the previous round is still delivering
            self._alerting = True
        threading.Thread(target=self._alerts, name="wesog-alerts", daemon=True).start()

    def _alerts(self) -> None:
        try:
            self._in_context(alerts.run_cycle)
        finally:
            with self._lock:
                self._alerting = False

    def _all(self, function: Callable[[int], Any], ids: list[int]) -> None:
        wait([self.pool.submit(self._in_context, function, i) for i in ids])

    def _in_context(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run in this worker thread's own app context (and so its own session), fenced by
        the lease: once it is lost, the task's upstream calls and commits are refused."""
        with self.app.app_context(), fenced(self.lease):
            try:
                if not self.lease.check():  # also renews it: a long cycle keeps the lease
                    raise LeaseLost()
                return function(*args)
            except LeaseLost:
                db.session.rollback()
                self.holding = False
                log.info("poller task %s%r stopped: the lease was lost", function.__name__, args)
                return None
            except Exception:  # one failure must not stop the cycle or kill the thread
                db.session.rollback()
                log.exception("poller task %s%r failed", function.__name__, args)
                return None

    def _due_operations(self) -> list[int]:
        now = utcnow()
        query = (
            select(Operation.op_id)
            .where(
                Operation.is_finished.is_(False),
                Operation.state != "lost",  # never asked again
                Operation.op_id > 0,  # retired incarnations are never polled
                or_(Operation.next_poll_at.is_(None), Operation.next_poll_at <= now),
            )
            # Never-polled first, as SQLite sorts NULLs; PostgreSQL would put them last.
            .order_by(Operation.next_poll_at.asc().nulls_first())
            .limit(MAX_OPS_PER_CYCLE)
        )
        return list(db.session.scalars(query))

    def _poll(self, op_id: int) -> None:
        self._in_context(self._poll_one, op_id)

    @staticmethod
    def _poll_one(op_id: int) -> None:
        # The HTTP call happens outside any database transaction: no lock is held meanwhile.
        result = fetch(wesog_client(), op_id)
        if isinstance(result, LeaseLost):
            raise result
        store(op_id, result)

    def _start_long_send(self, deletion_id: int) -> None:
        # Daemon threads, not a pool: stopping the poller must not wait minutes for an
        # answer. A send cut off that way leaves its claim to expire, then is reconciled.
        with self._lock:
            if deletion_id in self._long_sends or len(self._long_sends) >= LONG_SENDERS:
                return  # still running, or too many at once: a later cycle picks it up
            self._long_sends.add(deletion_id)
        thread = threading.Thread(
            target=self._long_send, args=(deletion_id,), name="wesog-send", daemon=True
        )
        thread.start()

    def _long_send(self, deletion_id: int) -> None:
        try:
            self._in_context(deletions.send, deletion_id)
        finally:
            with self._lock:
                self._long_sends.discard(deletion_id)

    def run_forever(
        self, stop_event: threading.Event, report: Callable[[str], None] | None = None
    ) -> None:
        """Cycle until `stop_event` is set; `report` hears when the lease is taken or lost."""
        reported: bool | None = None
        try:
            while not stop_event.is_set():
                self.wake_event.clear()
                pause = self._cycle()
                if report is not None and self.holding != reported:
                    reported = self.holding
                    report(self.status())
                self.wake_event.wait(pause)
        finally:
            self.close()

    def _cycle(self) -> float:
        """One cycle and the pause after it; errors are logged, never fatal."""
        try:
            self.run_once()
            return self.pause()
        except Exception:
            log.exception("poller cycle failed")
            self.holding = False
            return self.lease.ttl / 3

    def status(self) -> str:
        """One line saying whether this poller works or stands by, and for whom."""
        if self.holding:
            return f"polling (lease holder {self.holder})"
        return f"standing by: another poller holds the lease ({self.lease.other or 'unknown'})"

    def pause(self) -> float:
        """Seconds until something is due, capped so the lease is renewed in time."""
        cap = min(float(self.app.config["WESOG_POLL_INTERVAL"]), self.lease.ttl / 3)
        if not self.holding:
            return self.lease.ttl / 3
        now = utcnow()
        at_now = literal(now, UTCDateTime())  # a new request has no next_attempt_at: due now
        with self.app.app_context():
            next_op = db.session.scalar(
                select(func.min(Operation.next_poll_at)).where(Operation.is_finished.is_(False))
            )
            next_deletion = db.session.scalar(
                select(func.min(func.coalesce(DeletionRequest.next_attempt_at, at_now))).where(
                    DeletionRequest.state.in_(("scheduled", "pending", "unknown"))
                )
            )
        times = [t for t in (next_op, next_deletion) if t is not None]
        if not times:
            return cap
        return max(MIN_PAUSE, min(cap, (min(times) - now).total_seconds()))

    def close(self) -> None:
        """Release the lease (so a stand-by poller takes over at once) and stop the threads."""
        try:
            with self.app.app_context():
                self.lease.release()
        except Exception:
            log.exception("could not release the poller lease")
        self.holding = False
        self.pool.shutdown(wait=True, cancel_futures=True)
