"""The head of a deletion's page: one bar and one ETA across all its operations, how many
chunks were sent (and when the first and the last went), and its operations counted by state
with the same words as their badges. Reads the database only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import deletions
from ..models import DeletionRequest, utcnow
from .display import Bar, deletion_bar

OPS_UNFOLDED = 10  # past this many operations, the per-operation rows fold away


@dataclass(frozen=True)
class Overall:
    """Where a whole deletion stands, whatever number of operations it took."""

    bar: Bar
    chunks_sent: int
    chunks_total: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    eta_seconds: float | None
    op_states: list[tuple[str, int]]  # (operation state, how many), in a fixed order

    @property
    def chunked(self) -> bool:
        """True when the deletion goes (or went) out in more than one operation."""
        return self.chunks_total > 1


STATE_ORDER = (
    "running",
    "stale",
    "queued",
    "unknown",
    "finished_with_errors",
    "finished",
    "cancelled",
    "lost",
)


def overall(deletion: DeletionRequest) -> Overall:
    """The deletion's overall progress from its stored operations and its unsent items."""
    sent = deletions.sends(deletion)  # the one count of chunks sent and to send
    counts: dict[str, int] = {}
    for op in deletion.operations:
        counts[op.state] = counts.get(op.state, 0) + 1
    order = {state: n for n, state in enumerate(STATE_ORDER)}
    bar = deletion_bar(deletion)
    return Overall(
        bar=bar,
        chunks_sent=sent.chunks_sent,
        chunks_total=sent.chunks_total if deletion.is_live else sent.chunks_sent,
        first_sent_at=sent.first_at,
        last_sent_at=sent.last_at,
        eta_seconds=eta(bar, sent.first_at, deletion.is_live),
        op_states=sorted(counts.items(), key=lambda pair: order.get(pair[0], len(order))),
    )


def eta(bar: Bar, since: datetime | None, live: bool) -> float | None:
    """Seconds left at the average rate since the first chunk went out (None when unknown)."""
    if not live or since is None or bar.done <= 0 or bar.total <= bar.done:
        return None
    elapsed = (utcnow() - since).total_seconds()
    if elapsed <= 0:
        return None
    return (bar.total - bar.done) * elapsed / bar.done
