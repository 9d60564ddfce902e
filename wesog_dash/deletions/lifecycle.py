"""The life cycle of a deletion request in one table: every state, every allowed transition and
who may cause it (a person, the dispatcher, the poller).

Each transition is one conditional UPDATE on the current state (`UPDATE … WHERE id = ? AND
state IN (…)`): the database decides who wins a race, and the row count says whether we did.
Sending a chunk is such a claim (`pending → sending`): a pause, cancel or undo that comes
after it finds `sending` and says so ("1 chunk was already being sent"); one that comes before
leaves nothing to claim, and the chunk is never sent.

A deletion that still has work upstream (a chunk on its way, operations queued or running)
waits in `pausing`, `cancelling` or `stopping`; it becomes `paused`, `cancelled` or `stopped`
when the last of that work ends (`settled_state`), and its `finished_at` is that moment.
Adding a state is one entry in STATES (and its transitions in TRANSITIONS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from ..models import DeletionRequest

PERSON, DISPATCHER, POLLER = "person", "dispatcher", "poller"
SYSTEM = (DISPATCHER, POLLER)
ANYONE = (PERSON, DISPATCHER, POLLER)


@dataclass(frozen=True)
class State:
    """One state of a deletion request: whether it is final, and what it means."""

    final: bool
    meaning: str


STATES: dict[str, State] = {
    "scheduled": State(False, "in its undo window; nothing sent yet"),
    "pending": State(False, "waiting to send its next chunk"),
    "sending": State(False, "a chunk is claimed and on its way to the API"),
    "submitted": State(False, "every chunk sent; operations run upstream"),
    "unknown": State(False, "a send may or may not have happened; the reconciler decides"),
    "pausing": State(False, "paused; a chunk or operations already sent still run"),
    "paused": State(False, "paused; unsent chunks wait for a resume"),
    "cancelling": State(False, "cancelled; a chunk or operations already sent still run"),
    "stopping": State(False, "stopped on failures; operations already sent still run"),
    "done": State(True, "every image deleted"),
    "done_with_errors": State(True, "ended; some images were not deleted"),
    "rejected": State(True, "the API refused it; nothing was deleted"),
    "cancelled": State(True, "cancelled; nothing of it runs any more"),
    "stopped": State(True, "stopped on failures; nothing of it runs any more"),
    "awaiting_approval": State(False, "waiting for a second person to approve; nothing sent"),
}


@dataclass(frozen=True)
class Transition:
    """From which states, to which state, and who may cause it."""

    sources: tuple[str, ...]
    target: str
    by: tuple[str, ...]


T = Transition
TRANSITIONS: dict[str, Transition] = {
    # four eyes (deletions/approval.py): nothing is sent before another person approves
    "approve": T(("awaiting_approval",), "pending", (PERSON,)),
    "reject_request": T(("awaiting_approval",), "cancelled", (PERSON,)),
    "expire_request": T(("awaiting_approval",), "cancelled", (POLLER,)),
    # the undo window
    "release": T(("scheduled",), "pending", (DISPATCHER,)),
    "undo": T(("scheduled",), "cancelled", (PERSON,)),
    # sending, one chunk at a time
    "claim_chunk": T(("pending",), "sending", (DISPATCHER,)),
    "chunk_answered": T(("sending",), "pending", (DISPATCHER,)),  # more to send (or later)
    "all_sent": T(("sending", "pending", "unknown"), "submitted", (DISPATCHER,)),
    "refused": T(("sending", "pending", "unknown"), "rejected", (DISPATCHER,)),
    "in_doubt": T(("sending", "pending", "submitted"), "unknown", SYSTEM),
    "reconciled": T(("unknown",), "pending", (DISPATCHER,)),
    # a person's hand on the unsent chunks
    "pause_in_flight": T(("sending",), "pausing", (PERSON,)),  # the chunk goes on its way
    "pause": T(("scheduled", "pending"), "pausing", (PERSON,)),
    "resume": T(("paused", "pausing"), "pending", (PERSON,)),
    "cancel_in_flight": T(("sending",), "cancelling", (PERSON,)),
    "cancel": T(("scheduled", "pending", "paused", "pausing"), "cancelling", (PERSON,)),
    "cancel_sent": T(("submitted",), "cancelling", (PERSON,)),  # queued operations cancelled
    # the failure threshold
    "stop": T(("pending", "sending", "submitted"), "stopping", SYSTEM),
    # the end, once nothing of it runs upstream any more
    "paused": T(("pausing",), "paused", ANYONE),
    "cancelled": T(("cancelling",), "cancelled", ANYONE),
    "stopped": T(("stopping",), "stopped", ANYONE),
    "done": T(("submitted",), "done", ANYONE),
    "done_with_errors": T(("submitted",), "done_with_errors", ANYONE),
}


def sources_of(name: str) -> tuple[str, ...]:
    """The states transition `name` may start from."""
    return TRANSITIONS[name].sources


FINAL = tuple(code for code, state in STATES.items() if state.final)
# Waiting for work already upstream to end, and the state each one ends in.
WINDING_DOWN = {"pausing": "paused", "cancelling": "cancelled", "stopping": "stopped"}
PAUSABLE = TRANSITIONS["pause"].sources + TRANSITIONS["pause_in_flight"].sources
CANCELLABLE = tuple(
    state for name in ("cancel", "cancel_in_flight", "cancel_sent") for state in sources_of(name)
)


class TransitionError(RuntimeError):
    """A transition asked for by someone the table does not allow (a programming error)."""


def move(deletion_id: int, name: str, by: str, *where: ColumnElement[bool], **values: Any) -> bool:
    """Apply transition `name` if the request is in one of its source states (and meets
    `where`); True if it won. One conditional UPDATE (with `values` set in the same
    statement); the caller commits.
    """
    transition = TRANSITIONS[name]
    if by not in transition.by:
        raise TransitionError(f"{by} may not cause {name!r}")
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.state.in_(transition.sources),
            *where,
        )
        .values(state=transition.target, **values)
        .execution_options(synchronize_session=False)
    )
    won = bool(getattr(result, "rowcount", 0) == 1)
    if won:
        _refresh(deletion_id)
    return won


def first_move(deletion_id: int, names: tuple[str, ...], by: str, **values: Any) -> str | None:
    """The first of `names` that wins (tried in order, a few rounds against a moving state)."""
    for _ in range(3):
        for name in names:
            if move(deletion_id, name, by, **values):
                return name
    return None


def end(deletion_id: int, name: str, by: str, now: datetime, **values: Any) -> bool:
    """A transition into a final state: it also sets finished_at and clears the next attempt."""
    return move(deletion_id, name, by, finished_at=now, next_attempt_at=None, **values)


def _refresh(deletion_id: int) -> None:
    """The loaded object (if any) reads the new row next time it is touched."""
    deletion = db.session.identity_map.get(identity_key(DeletionRequest, deletion_id))
    if deletion is not None:
        db.session.expire(deletion)


def describe() -> list[tuple[str, str, str, str]]:
    """(transition, from, to, who): the table in words, for the README and the bench."""
    return [
        (name, ", ".join(t.sources), t.target, ", ".join(t.by)) for name, t in TRANSITIONS.items()
    ]
