"""What `wesog watch` shows: one reading of a deletion request or one operation, read from
the database the way the browser's pages read it, and the exit code it ends with."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .. import deletions, operations
from ..extensions import db
from ..models import FINAL_DELETION_STATES, FINAL_OP_STATES

# 2 is click's usage error (a wrong option): a rejected deletion is 5, never confused with it.
EXIT_DONE, EXIT_FAILED, EXIT_TIMEOUT, EXIT_NOT_FOUND, EXIT_REJECTED = 0, 1, 3, 4, 5
EXIT_INTERRUPTED = 130
# Any other final state (a later one such as a stopped or cancelled request) means that not
# everything was deleted: 1.
EXIT_CODES = {"done": EXIT_DONE, "done_with_errors": EXIT_FAILED, "rejected": EXIT_REJECTED}
# The words of templates/shared/_state_badge.html and deletions/_deletion_state.html.
WORDS = {"done_with_errors": "done with errors", "finished_with_errors": "finished with errors"}
SENTENCES = {
    "pending": "waiting to be sent",
    "submitted": "sent; the Wesog API is working on it",
    "unknown": "outcome unknown, being reconciled",
    "rejected": "refused by the Wesog API",
    "done_with_errors": "finished; some images were not deleted",
    "done": "the Wesog API finished it",
    "queued": "waiting in the tenant's queue",
    "running": "running",
    "finished": "finished",
    "finished_with_errors": "finished; some elements failed",
    "stale": "no progress for a while (stale)",
    "missing": "the Wesog API answers 404 for it (not found upstream)",
    "lost": "lost upstream: what it did cannot be known from the API",
    "sending": "a chunk is on its way to the Wesog API",
    "pausing": "paused; what was already sent still runs",
    "paused": "paused; the unsent chunks wait for a resume",
    "cancelling": "cancelled; what was already sent still runs",
    "cancelled": "cancelled; nothing of it runs any more",
    "stopping": "stopped on failures; what was already sent still runs",
    "stopped": "stopped on failures; nothing of it runs any more",
}


@dataclass(frozen=True)
class Reading:
    """One reading: counts, state and, once it ended, the exit code."""

    kind: str  # deletion | operation
    id: int
    state: str
    good: int
    failed: int
    total: int
    message: str | None
    final: bool
    exit_code: int | None

    @property
    def done(self) -> int:
        """Elements processed (never more than the total)."""
        return min(self.total, self.good + self.failed) if self.total else self.good + self.failed

    @property
    def sentence(self) -> str:
        """Where it stands, in the browser's words."""
        word = WORDS.get(self.state, self.state)
        text = f"{word}: {SENTENCES.get(self.state, word)}"
        return f"{text}: {self.message}" if self.message else text

    def key(self) -> tuple[Any, ...]:
        """What must change for a new line of --json output."""
        return (self.state, self.good, self.failed, self.total, self.message)


def read_deletion(deletion_id: int) -> Reading | None:
    """A deletion request's progress over all its operations (as its page draws it)."""
    db.session.rollback()  # a new transaction: see what the poller committed since
    deletion = deletions.get_deletion(deletion_id)
    if deletion is None:
        return None
    ops = list(deletion.operations)
    total = max(deletion.item_count or 0, sum(op.num_total or 0 for op in ops))
    final = deletion.state in FINAL_DELETION_STATES
    message = deletion.message if deletion.state != "pending" or final else None
    return Reading(
        "deletion",
        deletion.id,
        deletion.state,
        sum(op.num_good or 0 for op in ops),
        sum(op.num_bad or 0 for op in ops),
        total,
        message,
        final,
        EXIT_CODES.get(deletion.state, EXIT_FAILED) if final else None,
    )


def read_operation(op_id: int) -> Reading | None:
    """One operation's counts as the poller last stored them."""
    db.session.rollback()
    op = operations.load_operation(op_id)
    if op is None:
        return None
    final = op.is_finished or op.state in FINAL_OP_STATES
    # Lost upstream: what it did cannot be proven, so not "everything was deleted".
    failed = op.num_bad or not op.is_finished
    code = (EXIT_FAILED if failed else EXIT_DONE) if final else None
    return Reading(
        "operation",
        op.op_id,
        op.state,
        op.num_good or 0,
        op.num_bad or 0,
        op.num_total or 0,
        op.last_poll_error,
        final,
        code,
    )


class Rate:
    """Elements per second over the last `window` seconds, and the ETA at that rate."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self.points: deque[tuple[float, int]] = deque()

    def add(self, done: int, now: float | None = None) -> None:
        """Record how many elements were done at `now`."""
        now = time.monotonic() if now is None else now
        self.points.append((now, done))
        while len(self.points) > 2 and now - self.points[0][0] > self.window:
            self.points.popleft()

    def per_second(self) -> float | None:
        """The recent rate, None before two distinct readings."""
        if len(self.points) < 2:
            return None
        (t0, d0), (t1, d1) = self.points[0], self.points[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def eta(self, remaining: int) -> float | None:
        """Seconds left at the recent rate (None while nothing moves)."""
        rate = self.per_second()
        if remaining <= 0:
            return 0.0
        return remaining / rate if rate else None


def as_record(reading: Reading, rate: Rate) -> dict[str, Any]:
    """One --json line."""
    record = asdict(reading)
    per_second = rate.per_second()
    record["rate_per_s"] = round(per_second, 2) if per_second is not None else None
    eta = rate.eta(reading.total - reading.done)
    record["eta_s"] = round(eta, 1) if eta is not None else None
    return record
