"""The poller: the only code that fetches `GET /ops/{op_id}`, plus the deletion dispatcher.

All of its state lives in the database (next_poll_at, poll_failures, deletion states), so a
new Poller resumes every unfinished operation and every pending/unknown deletion. A lease row
makes sure one poller works at a time across processes; the others stand by.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from flask import Flask
from sqlalchemy import func, literal, select
from sqlalchemy.exc import DBAPIError

from .. import alerts, deletions, metrics
from ..audit.digests import DigestSchedule
from ..config import settings
from ..database import discard, end_idle_transactions
from ..extensions import db
from ..models import DeletionRequest, Operation, UTCDateTime, utcnow
from .fence import LeaseLost, fenced
from .guards import keep_guard_rails
from .lease import DEFAULT_TTL, LeaseKeeper, new_holder_id, transaction_limits
from .refresh import Refresher

log = logging.getLogger(__name__)
MIN_PAUSE = 0.05  # seconds: never spin, even when something is due at once
LONG_SENDERS = 2  # wait=true deletes block for a whole operation: at most this many at once
PRUNE_EVERY = 60.0  # seconds between two rounds of pruning old minute rollups


def end_frozen_transactions(app: Flask) -> float | None:
    """In a process that only polls: PostgreSQL ends any of its transactions left idle past
    WESOG_POLLER_IDLE_TX_TIMEOUT, so a frozen poller cannot keep the lease row locked past its
    lease. Returns those seconds (None on SQLite); ValueError names a setting out of range."""
    idle, _ = transaction_limits(settings(app), settings(app).lease_ttl)
    with app.app_context():
        return idle if end_idle_transactions(db.engine, idle) else None


def ended(exc: BaseException) -> str | None:
    """Why the database ended our connection (e.g. a transaction idle past the timeout), in
    one line; None for any other error."""
    if not isinstance(exc, DBAPIError) or not exc.connection_invalidated:
        return None
    lines = str(exc.orig or exc).strip().splitlines() or [type(exc).__name__]
    return f"the database ended this poller's connection ({lines[0]})"


def send_all(deletion_ids: list[int]) -> None:
    """Send due requests one after another (each takes the room left in flight)."""
    for deletion_id in deletion_ids:
        deletions.send(deletion_id)


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
        try:
            lock_timeout: float | None = transaction_limits(settings(app), lease_ttl)[1]
        except ValueError as exc:  # the poll command refuses it; a poller thread warns
            log.warning("%s; using a third of the lease TTL", exc)
            lock_timeout = None
        self.lease = LeaseKeeper(holder or new_holder_id(), lease_ttl, lock_timeout=lock_timeout)
        self.wake_event = wake_event or threading.Event()
        self.holding = False
        workers = settings(app).poll_concurrency
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wesog-poll")
        self.refresher = Refresher(app, self.pool, self._in_context)
        self._long_sends: set[int] = set()
        self.digests = DigestSchedule()
        self._background: set[str] = set()  # helper threads running (alerts, prune)
        self._pruned_at = -PRUNE_EVERY
        self._lock = threading.Lock()

    @property
    def holder(self) -> str:
        """This poller's lease holder id (hostname:pid:random)."""
        return self.lease.holder

    def run_once(self) -> int:
        """One cycle: hold the lease, dispatch deletions, refresh operations; returns refreshes."""
        with self.app.app_context():
            self.holding = self.lease.acquire()
            if not self.holding:
                return 0
        self._in_context(deletions.settle_lost)
        self._in_context(deletions.settle_winding_down)
        with self.app.app_context():
            work = deletions.pending_work()
            waited = [i for i in work.pending if deletions.wants_wait(i)]
            searches = deletions.unresolved()
        for deletion_id in waited:
            self._start_long_send(deletion_id)
        for selection_id in searches:
            self._start_resolution(selection_id)
        quick = [i for i in work.pending if i not in waited]
        # Sends go one after another: each takes the room left for operations in flight.
        self._in_context(send_all, quick)
        self._all(deletions.reconcile, work.unknown)
        refreshed = self.refresher.run()
        self._in_context(self.digests.run)  # the lease holder signs the audit head
        self._start_alerts()
        self._start_pruning()
        self._in_background("guards", keep_guard_rails)  # policies search: never in the cycle
        if self.holding:
            with self.app.app_context():
                self.lease.beat()  # a cycle finished: pages stop warning that nothing polls
        return refreshed

    def _start_alerts(self) -> None:
        """Scan for alerts and deliver them in a helper thread: the cycle never waits for it."""
        if settings(self.app).alert_url:
            self._in_background("alerts", alerts.run_cycle)

    def _start_pruning(self) -> None:
        """Every PRUNE_EVERY seconds, drop old minute rollups in a helper thread, a small
        batch (its own transaction) at a time: the cycle never waits for it."""
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            self._in_background("prune", metrics.prune_old_minutes)

    def _in_background(self, name: str, function: Callable[[], Any]) -> None:
        with self._lock:
            if name in self._background:
                return  # the previous round is still running
            self._background.add(name)
        threading.Thread(
            target=self._background_task,
            args=(name, function),
            name=f"wesog-{name}",
            daemon=True,
        ).start()

    def _background_task(self, name: str, function: Callable[[], Any]) -> None:
        try:
            self._in_context(function)
        finally:
            with self._lock:
                self._background.discard(name)

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
                discard(db.session)
                self.holding = False
                log.info("poller task %s%r stopped: the lease was lost", function.__name__, args)
                return None
            except Exception as exc:  # one failure must not stop the cycle or kill the thread
                discard(db.session)
                if not ended(exc):
                    log.exception("poller task %s%r failed", function.__name__, args)
                    return None
                # E.g. PostgreSQL ended a transaction left idle while this process was frozen:
                # none of it was committed; the lease is checked again before anything else.
                self.holding = False
                log.warning("poller task %s%r stopped: %s", function.__name__, args, ended(exc))
                return None

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

    def _start_resolution(self, selection_id: int) -> None:
        # Paging a search of 100,000 matches takes a while: never inside the cycle.
        key = -selection_id  # shares the bookkeeping of long sends, apart by sign
        with self._lock:
            if key in self._long_sends:
                return
            self._long_sends.add(key)
        thread = threading.Thread(
            target=self._long_task,
            args=(key, deletions.resolve, selection_id),
            name="wesog-resolve",
            daemon=True,
        )
        thread.start()

    def _long_task(self, key: int, function: Callable[[int], Any], arg: int) -> None:
        try:
            self._in_context(function, arg)
        finally:
            with self._lock:
                self._long_sends.discard(key)

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
        except Exception as exc:
            self.holding = False
            if ended(exc):
                log.warning("poller cycle stopped: %s", ended(exc))
            else:
                log.exception("poller cycle failed")
            return self.lease.ttl / 3

    def status(self) -> str:
        """One line saying whether this poller works or stands by, and for whom."""
        if self.holding:
            return f"polling (lease holder {self.holder})"
        return f"standing by: another poller holds the lease ({self.lease.other or 'unknown'})"

    def pause(self) -> float:
        """Seconds until something is due, capped so the lease is renewed in time."""
        cap = min(settings(self.app).poll_interval, self.lease.ttl / 3)
        if not self.holding:
            return self.lease.ttl / 3
        now = utcnow()
        at_now = literal(now, UTCDateTime())  # a new request has no next_attempt_at: due now
        with self.app.app_context():
            next_op = db.session.scalar(
                select(func.min(Operation.next_poll_at)).where(Operation.is_finished.is_(False))
            )
            next_ours = db.session.scalar(
                select(func.min(Operation.next_poll_at)).where(
                    Operation.is_finished.is_(False), Operation.deletion_id.is_not(None)
                )
            )
            next_deletion = db.session.scalar(
                select(func.min(func.coalesce(DeletionRequest.next_attempt_at, at_now))).where(
                    DeletionRequest.state.in_(("scheduled", "pending", "unknown"))
                )
            )
        times = [(t - now).total_seconds() for t in (next_op, next_deletion) if t is not None]
        if next_op is not None and self.refresher.deferred:
            # Due operations wait for the next list read, not for a spin of empty cycles.
            times[0] = max(times[0], self.refresher.until_next_list())
        if next_ours is not None:  # ours are read early (young ones soon): never deferred
            times.append((next_ours - now).total_seconds())
        hint = self.refresher.wake_hint()
        if hint is not None:
            times.append(hint)
        if not times:
            return cap
        return max(MIN_PAUSE, min(cap, *times))

    def close(self) -> None:
        """Release the lease (so a stand-by poller takes over at once) and stop the threads."""
        try:
            with self.app.app_context():
                self.lease.release()
        except Exception:
            log.exception("could not release the poller lease")
        self.holding = False
        self.pool.shutdown(wait=True, cancel_futures=True)
