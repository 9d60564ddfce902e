"""In-memory state of the sandbox: images, operations, the operation queue and its one worker.

Elements of an operation are processed independently, one at a time: a failing element is
recorded in `errors`/`num_bad` and the others still apply. The manage-overview page calls the
default "All or nothing", but that contradicts the per-element `num_good`/`num_bad` counters
and the live progress the Operation object exposes, so the sandbox does not roll back.
Reads see a change as soon as its element is processed.

With `item_ms` at 0 the worker applies up to `_CHUNK` elements per lock hold, so a 10,000-id
delete has no per-element sleep or lock. `hold` keeps queued ops queued (the op being run goes
on). A simulated restart or forget drops operations: queued ones never run, a running one
stops after its current element, and a `wait=true` request waiting on one gets no answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from typing import Any

from .images import ImageStore
from .narrowing import IdHint
from .operations import Element, SimulatedOperation
from .oplog import OpLog, OpsQuery
from .records import ImageRecord
from .seed import demo_records
from .settings import SandboxSettings

_CHUNK = 1000  # elements applied per lock hold when item_ms is 0; bounds how long reads wait


class SandboxState:
    """Thread-safe store of images and operations plus the queue worker."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._cond = threading.Condition(threading.Lock())
        self.knob_lock = threading.Lock()  # settings changes and one-shot fault counters
        self._images = ImageStore(demo_records(settings.images, settings.seed))
        self._oplog = OpLog()
        self._queue: deque[SimulatedOperation] = deque()
        self._current: SimulatedOperation | None = None
        self._not_before = 0.0  # new ops are created after every op a restart forgot
        self._fail_rng = random.Random(settings.seed + 1)
        self._inject_rng = random.Random(settings.seed + 2)
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    # --- images -------------------------------------------------------------------------

    def get_image(self, image_id: str) -> ImageRecord | None:
        """Return the stored image or None."""
        with self._cond:
            return self._images.get(image_id)

    def images_for(self, ids: IdHint | None) -> list[ImageRecord]:
        """The images a formula allowing `ids` can match, in default order; must not be
        modified."""
        with self._cond:
            return self._images.candidates(ids)

    def ordered_images(self) -> list[ImageRecord]:
        """All images in default order (id ascending); the list must not be modified."""
        with self._cond:
            return self._images.ordered()

    # --- operations ---------------------------------------------------------------------

    def submit(
        self, kind: str, elements: list[Element], wait: bool, urgent: bool, strict: bool
    ) -> SimulatedOperation:
        """Queue a new operation (urgent ones at the head) and return it."""
        with self._cond:
            created = max(time.time(), self._not_before)
            op = SimulatedOperation(
                self._oplog.take_id(), kind, elements, wait, urgent, strict, created
            )
            self._oplog.add(op)
            if urgent:
                self._queue.appendleft(op)  # behind the running op, which is no longer queued
            else:
                self._queue.append(op)
            self._ensure_worker()
            self._cond.notify_all()
            return op

    def describe(self, op: SimulatedOperation) -> dict[str, Any]:
        """The snapshot of an operation with its op_id, as write answers carry it."""
        with self._cond:
            return op.snapshot(with_id=True)

    def wait_for(self, op: SimulatedOperation) -> dict[str, Any] | None:
        """Block until the op finishes; its snapshot with op_id, or None once it is forgotten."""
        with self._cond:
            while not op.is_finished and not op.forgotten and not self._stop.is_set():
                self._cond.wait(0.5)
            return None if op.forgotten else op.snapshot(with_id=True)

    def get_op(self, op_id: int) -> dict[str, Any] | None:
        """The Operation without op_id (as `GET /ops/{op_id}` answers), or None."""
        with self._cond:
            op = self._oplog.ops.get(op_id)
            return None if op is None else op.snapshot(with_id=False)

    def select_ops(self, query: OpsQuery) -> tuple[list[dict[str, Any]], int]:
        """The matching operations with op_id, newest first, and how many match in all."""
        with self._cond:
            ops, total = self._oplog.select(query)
            now = time.time()
            return [op.snapshot(with_id=True, now=now) for op in ops], total

    def list_ops(self, query: OpsQuery | None = None) -> list[dict[str, Any]]:
        """Operations with op_id, newest first (every one without a query)."""
        return self.select_ops(query or OpsQuery())[0]

    def cancel_op(self, op_id: int) -> tuple[str, dict[str, Any] | None]:
        """Cancel a not-yet-started op: ("ok"|"missing"|"started", snapshot with op_id)."""
        with self._cond:
            op = self._oplog.ops.get(op_id)
            if op is None:
                return "missing", None
            if op.started is not None or op.is_finished:
                return "started", op.snapshot(with_id=True)
            if op is not self._current:
                self._queue.remove(op)
            # The current op may be in its start delay; the worker skips it once it wakes up.
            for element in op.elements:
                op.record(element.image_id, "cancelled")
            op.finished, op.elements = time.time(), ()
            self._oplog.finished(op)
            self._cond.notify_all()
            return "ok", op.snapshot(with_id=True)

    def forget_op(self, op_id: int) -> bool:
        """Forget one operation, as if the API had lost it; False when it is unknown."""
        with self._cond:
            op = self._oplog.forget(op_id)
            if op is None:
                return False
            if op is not self._current and not op.is_finished:
                self._queue.remove(op)
            self._cond.notify_all()
            return True

    def restart(self, next_op_id: int = 1) -> int:
        """Simulate an API restart: forget every op, number new ones from `next_op_id`."""
        with self._cond:
            forgotten = self._oplog.clear(next_op_id)
            self._queue.clear()
            if forgotten:
                # A reused op_id must come with another created_at (ms resolution, plus margin).
                self._not_before = max(op.created for op in forgotten) + 0.002
            self._cond.notify_all()
            return len(forgotten)

    def bulk_ops(self, count: int, method: str, state: str, items: int) -> list[int]:
        """Create `count` finished or queued ops of `items` elements each; return their ids."""
        with self._cond:
            now = max(time.time(), self._not_before)
            ops = self._oplog.bulk(count, method, state == "finished", items, now)
            if state != "finished":
                self._queue.extend(ops)
                self._ensure_worker()
                self._cond.notify_all()
            return [op.op_id for op in ops]

    # --- the worker ---------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None and not self._stop.is_set():
            self._worker = threading.Thread(target=self._run, name="wesog-sandbox-worker")
            self._worker.daemon = True
            self._worker.start()

    def _sleep(self, ms: int) -> bool:
        """Sleep without holding the lock; False when the sandbox is stopping."""
        return not self._stop.wait(max(0, ms) / 1000)

    def _run(self) -> None:
        while True:
            op = self._next_op()
            if op is None or not self._sleep(self.settings.start_ms):
                return
            if not self._start(op):
                continue
            if not self._process(op):
                return
            with self._cond:
                if not op.forgotten:
                    op.finished, op.elements = time.time(), ()
                    self._oplog.finished(op)
                self._current = None
                self._cond.notify_all()

    def _next_op(self) -> SimulatedOperation | None:
        """Wait for a queued op while not on hold; take it off the queue (None: stopping)."""
        with self._cond:
            while (not self._queue or self.settings.hold) and not self._stop.is_set():
                # While on hold, look again now and then: tests may flip the knob directly.
                self._cond.wait(0.05 if self.settings.hold else None)
            if self._stop.is_set():
                return None
            self._current = self._queue.popleft()
            return self._current

    def _start(self, op: SimulatedOperation) -> bool:
        """Mark the op started unless it was cancelled or forgotten (waits out a hold)."""
        with self._cond:
            while self.settings.hold and not self._dropped(op):
                self._cond.wait(0.05)
            if self._dropped(op):
                self._current = None
                return False
            op.started = time.time()
            return True

    def _dropped(self, op: SimulatedOperation) -> bool:
        return op.is_finished or op.forgotten or self._stop.is_set()

    def _process(self, op: SimulatedOperation) -> bool:
        """Run the elements, `item_ms` each on the wall clock; False when the sandbox stops."""
        # After a moment the worker could not run (request threads held the GIL or the lock,
        # e.g. for a large search), the elements whose time has come go together: throughput
        # does not depend on how much clients read, as with an API whose workers are apart.
        done, clock = 0, time.monotonic()
        while done < len(op.elements):
            size, item_s = _CHUNK, self.settings.item_ms / 1000
            if item_s > 0:
                clock += item_s
                if self._stop.wait(max(0.0, clock - time.monotonic())):
                    return False
                size = min(_CHUNK, 1 + int((time.monotonic() - clock) / item_s))
                clock += (size - 1) * item_s
            else:
                clock = time.monotonic()
            if self._stop.is_set():
                return False
            batch = op.elements[done : done + size]
            with self._cond:
                if op.forgotten:
                    return True
                for element in batch:
                    op.record(element.image_id, self._apply(op, element))
            done += len(batch)
        return True

    def _apply(self, op: SimulatedOperation, element: Element) -> str | None:
        """Apply one element (lock held); return the error message or None when good."""
        try:
            return self._images.apply(op.kind, element, op.do_strict, self._fails)
        except Exception as exc:  # a bug must not kill the only worker thread
            return f"internal error: {exc}"

    def _fails(self) -> bool:
        return self._fail_rng.random() < self.settings.fail_rate

    # --- stats, injection and knobs -----------------------------------------------------

    def count(self, key: str) -> None:
        """Count one received request under its route key, e.g. "GET /ops/{op_id}"."""
        with self._stats_lock:
            self._stats[key] += 1

    @property
    def stats(self) -> Counter[str]:
        """A copy of the request counters (missing keys read as 0)."""
        with self._stats_lock:
            return Counter(self._stats)

    def reset_stats(self) -> None:
        """Zero all request counters."""
        with self._stats_lock:
            self._stats.clear()

    def chance(self, probability: float) -> bool:
        """True with the given probability (for injected 429/503 answers)."""
        if probability <= 0:
            return False
        with self._stats_lock:
            return self._inject_rng.random() < probability

    def take(self, knob: str) -> bool:
        """Use up one unit of a one-shot fault counter such as `reset_before_create`."""
        with self.knob_lock:
            left = getattr(self.settings, knob)
            if left <= 0:
                return False
            setattr(self.settings, knob, left - 1)
            return True

    def pause(self, ms: int) -> None:
        """Sleep in a request thread (a late answer), cut short when the sandbox stops."""
        self._stop.wait(max(0, ms) / 1000)

    def wake(self) -> None:
        """Let the worker look at the knobs again (e.g. right after `hold` was released)."""
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the worker and release blocked `wait=true` requests."""
        self._stop.set()
        self.wake()
        if self._worker is not None:
            self._worker.join(timeout=2)
