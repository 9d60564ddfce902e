"""The chain verdict shown on /audit, kept fast at a million events.

Walking the whole chain costs seconds at 1M events, so each web process keeps its last
verdict in memory with the checkpoint it reached (last event id, hash, count), and per page
view it only:

* reads the head row (one primary-key lookup): unchanged head → the cached verdict;
* when the head moved on → re-checks the checkpoint event's hash and walks just the new
  events from there (incremental; a few rows between two page views);
* walks the whole chain again when there is no usable checkpoint (first view, a broken
  chain, a changed checkpoint) or the last whole walk is older than AUDIT_VERIFY_MAX_AGE
  seconds (default 600), so that an edit in the middle of old events shows up within that
  time even though it leaves the head alone. `flask audit verify` always walks everything.

Walks longer than AUDIT_VERIFY_SYNC_LIMIT events (default 20,000) run in a background
thread; meanwhile the page shows the previous verdict (or "checking") in a fragment that
polls until the walk is done. A restart in a new process only costs one background walk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import Row, select

from ..config import settings
from ..extensions import db
from ..models import AuditEvent, AuditHead, utcnow
from . import chain as audit_chain
from .chain import ChainReport
from .hashing import stored_row_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What the page shows: the latest report (if any), and whether a walk is under way."""

    report: ChainReport | None
    checked_at: datetime | None  # when the whole chain was last walked
    checking: bool
    head_id: int | None = None


HeadKey = tuple[int, str, bool] | None


def head_key(head: Row[int, str] | None) -> HeadKey:
    """What the cached verdict is valid for: the head row, and whether its event is intact.

    Re-hashing the newest event (one primary-key lookup) makes a changed or deleted newest
    event show at once, though it leaves the head row as it was.
    """
    if head is None:
        return None
    tip = db.session.execute(
        select(*audit_chain.RAW_COLUMNS).where(AuditEvent.id == head.event_id)
    ).first()
    intact = tip is not None and tip[audit_chain.HASH] == head.hash == stored_row_hash(tip)
    return head.event_id, head.hash, intact


class VerdictKeeper:
    """Per-app cache of the chain verdict, extended incrementally."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.report: ChainReport | None = None
        self.full_at: datetime | None = None
        self.full_monotonic = 0.0
        self.head_key: HeadKey = None
        self.worker: threading.Thread | None = None

    def current(self) -> Verdict:
        """The verdict for the chain as it is now (starting a walk when one is needed)."""
        head = db.session.execute(select(AuditHead.event_id, AuditHead.hash)).first()
        key = head_key(head)
        with self.lock:
            if self.worker is not None and self.worker.is_alive():
                return self._verdict(checking=True, head=head)
            job, size = self._job_for(head, key)
            if job is None:
                return self._verdict(checking=False, head=head)
        if size <= settings(self.app).audit_verify_sync_limit:
            job()
            return self._verdict(checking=False, head=head)
        self._start(job)
        return self._verdict(checking=True, head=head)

    def _verdict(self, *, checking: bool, head: Row[int, str] | None) -> Verdict:
        return Verdict(self.report, self.full_at, checking, head.event_id if head else None)

    def _job_for(
        self, head: Row[int, str] | None, key: HeadKey
    ) -> tuple[Callable[[], None] | None, int]:
        """What walk brings the cache up to date with `head` (None: it already is)."""
        head_id = head.event_id if head else 0
        max_age = settings(self.app).audit_verify_max_age
        fresh = self.report is not None and time.monotonic() - self.full_monotonic < max_age
        if fresh and key == self.head_key:
            return None, 0
        last = self.report.last if self.report else None
        if fresh and self.report and self.report.intact and last and head_id > last.event_id:
            return (lambda: self._walk(last, key)), head_id - last.event_id
        return (lambda: self._walk(None, key)), head_id

    def _walk(self, since: audit_chain.Checkpoint | None, key: HeadKey) -> None:
        """Walk the chain (from `since`, or all of it) and keep the result for head `key`."""
        report = audit_chain.verify(since=since)
        if since is not None and not report.intact and report.last is None:
            report, since = audit_chain.verify(), None  # the checkpoint itself changed
        with self.lock:
            self.report, self.head_key = report, key
            if since is None:
                self.full_at, self.full_monotonic = utcnow(), time.monotonic()

    def _start(self, job: Callable[[], None]) -> None:
        """Run `job` in a background thread with an app context of its own."""

        def run() -> None:
            with self.app.app_context():
                try:
                    job()
                except Exception:  # the page keeps showing "checking"; the log says why
                    log.exception("audit chain check failed")

        with self.lock:
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=run, name="audit-verify", daemon=True)
                self.worker.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background walk (if any) ends (for the bench and tests)."""
        worker = self.worker
        if worker is not None:
            worker.join(timeout)


def keeper(app: Flask | None = None) -> VerdictKeeper:
    """The app's verdict keeper, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("audit_verdict")
    if found is None:
        found = app.extensions.setdefault("audit_verdict", VerdictKeeper(app))
    return found


def current_verdict() -> Verdict:
    """The verdict for the page now."""
    return keeper().current()
