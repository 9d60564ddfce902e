"""In-memory state of the sandbox: images, operations, the operation queue and its one worker.

Elements of an operation are processed independently, one at a time: a failing element is
recorded in `errors`/`num_bad` and the others still apply. The manage-overview page calls the
default "All or nothing", but that contradicts the per-element `num_good`/`num_bad` counters
and the live progress the Operation object exposes, so the sandbox does not roll back.
Reads see a change as soon as its element is processed.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections import Counter, deque
from typing import Any

from .operations import Element, Operation
from .records import ImageRecord, blank_image, computed_values, make_record
from .seed import demo_images
from .settings import SandboxSettings

_COMPUTED = ("width", "height", "n_faces")


class SandboxState:
    """Thread-safe store of images and operations plus the queue worker."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._cond = threading.Condition(threading.Lock())
        self._images: dict[str, ImageRecord] = {}
        self._order: list[tuple[int, int, str]] = []  # sort keys of all ids, default order
        self._ordered: list[ImageRecord] | None = None  # cache, rebuilt after any write
        self._ops: dict[int, Operation] = {}
        self._queue: deque[Operation] = deque()
        self._current: Operation | None = None
        self._next_op_id = 1
        self._fail_rng = random.Random(settings.seed + 1)
        self._inject_rng = random.Random(settings.seed + 2)
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        for data in demo_images(settings.images, settings.seed):
            self._images[data["image_id"]] = make_record(data)
        self._order = sorted(record.sort_key for record in self._images.values())

    # --- images -------------------------------------------------------------------------

    def get_image(self, image_id: str) -> ImageRecord | None:
        """Return the stored image or None."""
        with self._cond:
            return self._images.get(image_id)

    def ordered_images(self) -> list[ImageRecord]:
        """All images in default order (id ascending); the list must not be modified."""
        with self._cond:
            if self._ordered is None:
                self._ordered = [self._images[key[2]] for key in self._order]
            return self._ordered

    def _store(self, record: ImageRecord) -> None:
        if record.image_id not in self._images:
            bisect.insort(self._order, record.sort_key)
        self._images[record.image_id] = record
        self._ordered = None

    def _remove(self, image_id: str) -> None:
        record = self._images.pop(image_id)
        del self._order[bisect.bisect_left(self._order, record.sort_key)]
        self._ordered = None

    # --- operations ---------------------------------------------------------------------

    def submit(
        self, kind: str, elements: list[Element], wait: bool, urgent: bool, strict: bool
    ) -> dict[str, Any]:
        """Queue a new operation (urgent ones at the head) and return its snapshot with op_id."""
        with self._cond:
            op = Operation(self._next_op_id, kind, elements, wait, urgent, strict)
            self._next_op_id += 1
            self._ops[op.op_id] = op
            if urgent:
                self._queue.appendleft(op)  # behind the running op, which is no longer queued
            else:
                self._queue.append(op)
            self._ensure_worker()
            self._cond.notify_all()
            return op.snapshot(with_id=True)

    def wait_for(self, op_id: int) -> dict[str, Any]:
        """Block until the operation finishes (or the sandbox stops); return it with op_id."""
        with self._cond:
            op = self._ops[op_id]
            while not op.is_finished and not self._stop.is_set():
                self._cond.wait(0.5)
            return op.snapshot(with_id=True)

    def get_op(self, op_id: int) -> dict[str, Any] | None:
        """The Operation without op_id (as `GET /ops/{op_id}` answers), or None."""
        with self._cond:
            op = self._ops.get(op_id)
            return None if op is None else op.snapshot(with_id=False)

    def list_ops(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Operations with op_id, newest first, optionally one page of them."""
        with self._cond:
            newest_first = sorted(self._ops, reverse=True)
            end = None if limit is None else offset + limit
            now = time.time()
            return [self._ops[i].snapshot(with_id=True, now=now) for i in newest_first[offset:end]]

    def cancel_op(self, op_id: int) -> tuple[str, dict[str, Any] | None]:
        """Cancel a not-yet-started op: ("ok"|"missing"|"started", snapshot with op_id)."""
        with self._cond:
            op = self._ops.get(op_id)
            if op is None:
                return "missing", None
            if op.started is not None or op.is_finished:
                return "started", op.snapshot(with_id=True)
            if op is not self._current:
                self._queue.remove(op)
            # The current op may be in its start delay; the worker skips it once it wakes up.
            for element in op.elements:
                op.record(element.image_id, "cancelled")
            op.finished, op.elements = time.time(), []
            self._cond.notify_all()
            return "ok", op.snapshot(with_id=True)

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
            with self._cond:
                while (not self._queue or self.settings.hold) and not self._stop.is_set():
                    self._cond.wait(0.05 if self.settings.hold else None)
                if self._stop.is_set():
                    return
                op = self._current = self._queue.popleft()
            if not self._sleep(self.settings.start_ms):
                return
            with self._cond:
                if op.is_finished:  # cancelled during the start delay
                    self._current = None
                    continue
                op.started = time.time()
            if not self._process(op):
                return
            with self._cond:
                op.finished, op.elements, self._current = time.time(), [], None
                self._cond.notify_all()

    def _process(self, op: Operation) -> bool:
        """Run the elements one by one, `item_ms` each; False when the sandbox is stopping."""
        for element in list(op.elements):
            if not self._sleep(self.settings.item_ms):
                return False
            with self._cond:
                try:
                    error = self._apply(op, element)
                except Exception as exc:  # a bug must not kill the only worker thread
                    error = f"internal error: {exc}"
                op.record(element.image_id, error)
        return True

    def _apply(self, op: Operation, element: Element) -> str | None:
        """Apply one element (lock held); return the error message or None when good."""
        old = self._images.get(element.image_id)
        if op.kind == "add":
            if old is not None and op.do_strict:
                return "image already exists"
        elif old is None:
            # Strict fails on a missing id; relaxed mode ignores it, counted good (§7 #5, #8).
            return "image not found" if op.do_strict else None
        if self._fail_rng.random() < self.settings.fail_rate:
            return "simulated failure"
        if op.kind == "del":
            self._remove(element.image_id)
        else:
            self._store(make_record(_new_data(op.kind, element, old)))
        return None

    # --- stats and injection ------------------------------------------------------------

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

    def settings_changed(self) -> None:
        """Wake the worker after a knob changed (e.g. `hold` released)."""
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the worker and release blocked `wait=true` requests."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2)


def _new_data(kind: str, element: Element, old: ImageRecord | None) -> dict[str, Any]:
    """The full Image after add (upsert = replace), put (replace) or patch (merge)."""
    payload = element.payload or {}
    if kind == "patch" and old is not None:
        data = {**old.data, **payload}
    else:
        data = {**blank_image(element.image_id), **payload}
    if old is not None and old.data["src"] == data["src"]:
        # Same source, same AI analysis: keep the computed values of the stored image.
        data.update({name: old.data[name] for name in _COMPUTED})
    else:
        data.update(computed_values(data["src"]))
    data["image_id"] = element.image_id
    return data
