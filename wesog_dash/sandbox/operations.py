"""The Operation object (§3): one queued write, its per-element progress and its JSON shape."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .records import canonical_int

# What the HTTP request asked for; "put" and "patch" both surface as method "upd" (§7 #14).
KIND_METHOD = {"add": "add", "put": "upd", "patch": "upd", "del": "del"}


@lru_cache(maxsize=1 << 16)
def iso_utc(timestamp: float | None) -> str | None:
    """Format a Unix time as ISO-8601 UTC with milliseconds and a 'Z' (None stays None)."""
    # Cached: an op's times never change once set, and formatting them was two thirds of the
    # cost of a snapshot (listing 1,000 ops formats 3,000 of them, at every poll).
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_id(image_id: str) -> int | str:
    """The `errors[].id` of an element: the image id as int when canonical digits, else the string.

    Deviation from §7 #9 (which suggests the element index): a dashboard must know *which* image
    failed, and the index cannot be mapped back once ids repeat across chunks.
    """
    number = canonical_int(image_id)
    return image_id if number is None else number


@dataclass
class Element:
    """One image of an operation: its id and, for add/upd, the validated body fields."""

    image_id: str
    payload: dict[str, Any] | None = None


# Identity semantics: the queue removes ops by identity, not by value. Slots: no __dict__ per
# op, so 100,000 finished ops are half as many objects for the garbage collector to scan.
@dataclass(eq=False, slots=True)
class SimulatedOperation:
    """The simulator's record of one operation: mutable, touched only under the store's lock."""

    op_id: int
    kind: str  # "add", "put", "patch" or "del"
    elements: Sequence[Element]  # emptied (an empty tuple) once finished
    do_wait: bool
    do_urgent: bool
    do_strict: bool
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    num_good: int = 0
    num_bad: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    num_total: int = 0
    forgotten: bool = False  # dropped by a simulated restart or forget: never runs further

    def __post_init__(self) -> None:
        self.num_total = len(self.elements)

    @property
    def is_finished(self) -> bool:
        """True once the worker is done with it (or it was cancelled)."""
        return self.finished is not None

    @property
    def method(self) -> str:
        """The `method` field: "add", "upd" or "del"."""
        return KIND_METHOD[self.kind]

    def record(self, image_id: str, error: str | None) -> None:
        """Count one processed element, as good when `error` is None."""
        if error is None:
            self.num_good += 1
        else:
            self.num_bad += 1
            self.errors.append({"id": error_id(image_id), "msg": error})

    def snapshot(self, with_id: bool, now: float | None = None) -> dict[str, Any]:
        """The Operation JSON (§3 field order); `with_id` adds `op_id` first."""
        now = time.time() if now is None else now
        # Running values while the op waits or runs (§7 #11); frozen once the event happened.
        idle_end = self.started or self.finished or now
        exec_ms = 0 if self.started is None else ((self.finished or now) - self.started) * 1000
        processed = self.num_good + self.num_bad
        body: dict[str, Any] = {"op_id": self.op_id} if with_id else {}
        body.update(
            method=self.method,
            resource="image",
            num_total=self.num_total,
            num_good=self.num_good,
            num_bad=self.num_bad,
            is_started=self.started is not None,
            is_finished=self.is_finished,
            all_good=None if processed == 0 else self.num_bad == 0,
            do_wait=self.do_wait,
            do_urgent=self.do_urgent,
            do_strict=self.do_strict,
            idle_ms=max(0, round((idle_end - self.created) * 1000)),
            exec_ms=max(0, round(exec_ms)),
            created_at=iso_utc(self.created),
            started_at=iso_utc(self.started),
            finished_at=iso_utc(self.finished),
            errors=list(self.errors),
        )
        return body
