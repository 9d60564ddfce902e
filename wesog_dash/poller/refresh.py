"""One cycle of refreshing unfinished operations, within the request budget.

Each cycle weighs the two ways of asking: one `GET /ops/{id}` per due operation, or the pages
of `GET /ops` (newest first) down to the oldest due one. The list wins when it needs fewer
calls, and it also discovers the tenant's other operations. It is read at most once per poll
interval, sooner only when an operation of our deletions is due (a young one is due soon, at
its expected end: `operations.pace`), and at most as many pages as fit in half an interval.
An API that does not page (the reference's bare array) answers every operation to the
first page: that one call is the whole walk. Operations the list does not show (forgotten
upstream, older than the pages read, or the list failed) are read one by one, as many as the
budget has free slots, watched ones first, then the longest unrefreshed. Op ids are taken as
increasing with time (wesog-api.md §7 #1).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from ..config import settings
from ..extensions import db
from ..models import Operation
from ..operations import backoff_seconds
from ..upstream import Budget, upstream, wesog_client
from ..wesog import OperationSnapshot, WesogError
from .discovery import Applied, apply_listed
from .due import UNFINISHED, due_operations, ours_due
from .fence import LeaseLost
from .lease import record_pace, record_pause
from .polling import fetch, store

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What one cycle will ask."""

    due: list[int]
    pages: int = 0  # list pages to read (0: none)
    discover: bool = False
    deferred: bool = False  # the list is the cheaper way, but it was read too recently
    early: bool = False  # read before its time for our due operations only: its first page
    oldest: int | None = None  # the walk goes down to this op id (the oldest unfinished)


@dataclass(frozen=True)
class Resume:
    """Where discovery cut short goes on: the page it did not read, and the newest op id of
    its first walk (operations newer than that are read from the first page once it is done)."""

    page: int
    newest: int


@dataclass
class Walk:
    """What reading the list gave."""

    listed: set[int] = field(default_factory=set)
    refreshed: set[int] = field(default_factory=set)
    discovered: int = 0
    too_young: list[int] = field(default_factory=list)
    calls: int = 0
    failed: bool = False
    cut: bool = False  # stopped by the call budget or the page cap while older pages were due
    next_page: int = 0  # the page it would have read next
    started: float = 0.0  # monotonic time the first page was asked for


def poll_one(op_id: int) -> None:
    """`GET /ops/{op_id}` and store it (inside the poller's fenced context)."""
    # The HTTP call happens outside any database transaction: no lock is held meanwhile.
    result = fetch(wesog_client(), op_id)
    if isinstance(result, LeaseLost):
        raise result
    store(op_id, result)


class Refresher:
    """Keeps what cycles learn: discovery's cursor, the list's cost and its failures."""

    def __init__(
        self, app: Flask, pool: ThreadPoolExecutor, in_context: Callable[..., Any]
    ) -> None:
        self.app, self.pool, self.in_context = app, pool, in_context
        self.cursor: int | None = None  # every op id up to it was listed once (see `resume`)
        self.resume: Resume | None = None  # discovery cut short, above the cursor: go on there
        self.next_list = self.next_discovery = self.list_retry_at = 0.0  # monotonic
        self.list_failures = 0
        self.seconds_per_page: float | None = None
        self.calls = {"list": 0, "id": 0}  # upstream calls made, by kind (for benchmarks)
        self.shown_pause: object = None
        self.shown_pace: tuple[int, str] | None = None
        self.deferred = False  # the last cycle left due operations for the next list read
        self.ours: list[int] = []  # due operations of our deletions: the list may go early

    def run(self) -> int:
        """One refresh cycle; returns how many operations it refreshed.

        Every database session and upstream call runs in the poller's fenced context, so a
        poller that lost its lease neither calls nor writes.
        """
        budget = upstream(self.app).budget
        state = self.in_context(self._state, budget)
        if state is None:
            return 0  # paused by a 429, or the lease is lost
        due, known_max, unfinished = state
        plan = self.plan(due, known_max, unfinished)
        self.deferred = plan.deferred
        walk = self.walk(plan) if plan.pages else Walk()
        wanted = self.ours if plan.early else [] if plan.deferred else due
        rest = [op_id for op_id in wanted if op_id not in walk.listed]
        rest = rest[: budget.free_slots()]
        wait([self.pool.submit(self.in_context, poll_one, op_id) for op_id in rest])
        self.calls["id"] += len(rest)
        self.in_context(self._show_pause, budget.paused_until())  # a 429 shows at once
        self.in_context(self._show_pace, budget)
        return len(walk.refreshed) + len(rest)

    def _state(self, budget: Budget) -> tuple[list[int], int | None, tuple[int, int | None]] | None:
        """Due operations, the newest op id, (count, oldest) unfinished; None while paused."""
        self._show_pause(budget.paused_until())
        self._show_pace(budget)
        if budget.paused_for() > 0:
            return None  # the API asked for a pause: nobody calls until it ends
        due = due_operations()
        known_max = db.session.scalar(select(func.max(Operation.op_id)))
        count, oldest = db.session.execute(
            select(func.count(), func.min(Operation.op_id)).where(*UNFINISHED)
        ).one()
        self.ours = ours_due()
        if self.cursor is None and known_max is not None:
            self.cursor = known_max  # after a restart: look for newer ones only
        return due, known_max, (int(count), oldest)

    def _show_pause(self, until: object) -> None:
        """Tell the pages (through the lease row) until when the API asked us to pause."""
        if until != self.shown_pause:
            record_pause(until)  # type: ignore[arg-type]
            self.shown_pause = until

    def _show_pace(self, budget: Budget) -> None:
        """Tell the pages the pace of this process (when it moved by a call or more)."""
        now = budget.pace_now()
        shown = (round(now.per_second), now.reason)
        if shown != self.shown_pace:
            record_pace(now.per_second, now.reason)
            self.shown_pace = shown

    def plan(
        self, due: list[int], known_max: int | None, unfinished: tuple[int, int | None]
    ) -> Plan:
        """List or per id, how many pages, whether to discover (no upstream call).

        When the list covers every unfinished operation in fewer calls than there are of them,
        it is read once per poll interval whether or not they are due: a queued operation
        that starts or ends shows within an interval for one call. Every list read discovers
        (new operations are on its first page); with nothing else to read, the list is still
        read every WESOG_DISCOVER_INTERVAL for discovery alone.
        """
        now, plan = time.monotonic(), Plan(due=due)
        discovering = settings(self.app).discover
        discover_due = discovering and now >= self.next_discovery
        count, oldest = unfinished
        if now < self.list_retry_at or not (due or discover_due or count):
            return plan
        size = settings(self.app).list_page_size
        span = (known_max or 0) - oldest + 1 if oldest is not None else 0
        for_all = math.ceil(max(span, 0) / size)
        if self.unpaged():
            for_all = min(for_all, 1)  # the bare array holds every operation in one call
        cheaper = count > 0 and for_all < count
        if not (cheaper or discover_due):
            return plan  # one call per due operation is cheaper
        if not discover_due and now < self.next_list:
            if not self.ours:
                plan.deferred = bool(due)  # the next list read (within an interval) has them
                return plan
            plan.early, plan.pages = True, 1  # ours are the newest; the others keep their turn
            return plan
        plan.discover = discovering
        plan.pages = max(1, min(for_all if cheaper else 1, self.max_pages()))
        plan.oldest = oldest if cheaper else None
        return plan

    def unpaged(self) -> bool:
        """The API answered a paged read with every operation (the reference's bare array)."""
        return upstream(self.app).client().capabilities.ops_paged is False

    def max_pages(self) -> int:
        """Pages that fit in half a poll interval at the measured time per page."""
        cap = settings(self.app).list_max_pages
        if not self.seconds_per_page:
            return cap
        fits = int(settings(self.app).poll_interval / 2 / self.seconds_per_page)
        return max(1, min(cap, fits))

    def walk(self, plan: Plan) -> Walk:
        """Read list pages newest first until the due and the new operations are covered."""
        size, walk = settings(self.app).list_page_size, Walk()
        walk.started = time.monotonic()  # the cadence counts from the read, not from its end
        budget, oldest_due = upstream(self.app).budget, plan.oldest
        if oldest_due is None and plan.due:
            oldest_due = min(plan.due)
        resume = self.resume if plan.discover else None
        # Going on where the last walk was cut: arrivals since only push that page further
        # back, so the page holds what it held or newer (read twice, never skipped).
        page = resume.page if resume is not None else 1
        for read in range(self.max_pages()):
            # Discovery may go past the planned pages when many new operations appeared.
            if read >= plan.pages and not (plan.discover and self.cursor is not None):
                break
            if budget.free_slots() == 0:
                walk.cut = True
                break
            ops = self.in_context(self._read_and_apply, page, size, plan, walk)
            if ops is None:
                break
            lowest = min((op.op_id for op in ops if op.op_id is not None), default=None)
            if len(ops) < size or lowest is None or self.unpaged():
                break
            if not self._needs(plan, lowest, oldest_due):
                break
            page += 1
        else:
            walk.cut = True  # the page cap came first: older pages still wait
        walk.next_page = page
        self._after_walk(plan, walk)
        return walk

    def _needs(self, plan: Plan, lowest: int, oldest_due: int | None) -> bool:
        """Whether operations older than `lowest` still need the next page."""
        if oldest_due is not None and lowest > oldest_due:
            return True
        return plan.discover and self.cursor is not None and lowest > self.cursor

    def _read_and_apply(
        self, page: int, size: int, plan: Plan, walk: Walk
    ) -> list[OperationSnapshot] | None:
        """One page of the list, stored (inside the poller's fenced context)."""
        ops = self._read_page(page, size, walk)
        if ops is not None:
            self._merge(walk, apply_listed(ops, set(plan.due), discover=plan.discover))
        return ops

    def _read_page(self, page: int, size: int, walk: Walk) -> list[OperationSnapshot] | None:
        started = time.perf_counter()
        try:
            ops = wesog_client().list_operations(page=page, limit=size)
        except LeaseLost:
            raise
        except WesogError as exc:
            walk.failed = True
            self.list_failures += 1
            delay = backoff_seconds(self.list_failures)
            self.list_retry_at = time.monotonic() + delay
            log.warning("GET /ops failed (%s); reading operations one by one", exc.message)
            return None
        finally:
            walk.calls += 1
            self.calls["list"] += 1
        elapsed = time.perf_counter() - started
        previous = self.seconds_per_page
        self.seconds_per_page = elapsed if previous is None else 0.7 * previous + 0.3 * elapsed
        self.list_failures = 0
        return ops

    @staticmethod
    def _merge(walk: Walk, applied: Applied) -> None:
        walk.listed |= applied.listed
        walk.refreshed |= applied.refreshed
        walk.discovered += len(applied.discovered)
        walk.too_young += applied.too_young

    def _after_walk(self, plan: Plan, walk: Walk) -> None:
        if plan.early:
            return  # the regular read keeps its schedule: an early one covers only ours
        now = walk.started
        # Our young operations need no shorter spacing: being due, they let the list go early.
        self.next_list = now + settings(self.app).poll_interval
        if not plan.discover or walk.failed:
            return
        self.next_discovery = now + settings(self.app).discover_interval
        if walk.cut and self.cursor is not None:
            # Pages between the last one read and the cursor were never listed: moving the
            # cursor up would leave their operations undiscovered for good. The next walk
            # goes on from the page this one did not read.
            top = self.resume.newest if self.resume else max(walk.listed, default=self.cursor)
            self.resume = Resume(walk.next_page, _below_young(top, walk))
            return
        if self.resume is not None:  # cut walks went on down to the cursor: all is listed
            # up to the first one's newest; what arrived since is read from the first page.
            self.cursor, self.resume = _below_young(self.resume.newest, walk), None
            return
        cursor = max(walk.listed, default=self.cursor or 0)
        if walk.too_young:
            cursor = min(cursor, min(walk.too_young) - 1)  # look at those again next time
        self.cursor = max(self.cursor or 0, cursor) if not walk.too_young else cursor

    def until_next_list(self) -> float:
        """Seconds until the list may be read again."""
        return max(0.0, self.next_list - time.monotonic())

    def wake_hint(self) -> float | None:
        """Seconds until discovery is next due (None: discovery is off)."""
        if not settings(self.app).discover:
            return None
        return max(0.0, self.next_discovery - time.monotonic())


def _below_young(op_id: int, walk: Walk) -> int:
    """`op_id`, or less: the walk's operations too young to be discovered are read again."""
    return min(op_id, min(walk.too_young) - 1) if walk.too_young else op_id
