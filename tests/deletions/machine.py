"""A model-free check of the deletion life cycle: hypothesis drives deletions through request,
undo, pause, resume, cancel, retry, restore, dispatcher steps and poller steps against the
real sandbox, and after every step checks what a person reads against what the sandbox did.

Used by tests/deletions/test_lifecycle_machine.py (bounded) and bench/lifecycle.py (long).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule
from sqlalchemy import func, select, update

from wesog_dash import deletions, metrics
from wesog_dash.extensions import db
from wesog_dash.models import (
    FINAL_DELETION_STATES,
    DeletionItem,
    DeletionRequest,
    ImageSnapshot,
    utcnow,
)
from wesog_dash.sandbox import SandboxServer

IN_PROGRESS = ("pending", "sending", "unknown")
FIRST_ID = 100001


@dataclass
class Tally:
    """What a run did: steps taken, invariants checked, actions answered."""

    steps: int = 0
    checks: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    next_id: int = FIRST_ID


def machine_for(app: Flask, sandbox: SandboxServer, poller: Any, tally: Tally) -> type:
    """A state machine class bound to one app, sandbox and poller (shared by its examples)."""

    class Lifecycle(RuleBasedStateMachine):
        made = Bundle("deletions")
        paused = Bundle("paused")  # deletions a pause was answered for: resume them

        def __init__(self) -> None:
            super().__init__()
            sandbox.settings.hold = False
            sandbox.state.wake()
            with app.app_context():  # this example's deletions come after these
                self.since = db.session.scalar(select(func.max(DeletionRequest.id))) or 0

        def _do(self, action: str, call: Any) -> bool:
            tally.steps += 1
            with app.app_context():
                try:
                    call()
                    tally.answers[f"{action}: done"] += 1
                    return True
                except (
                    deletions.ControlError,
                    deletions.DeletionInputError,
                    deletions.RestoreError,
                ):
                    tally.answers[f"{action}: refused"] += 1
                    return False

        @rule(
            target=made,
            size=st.integers(1, 12),
            ghosts=st.integers(0, 2),
            window=st.booleans(),
        )
        def request(self, size: int, ghosts: int, window: bool) -> int:
            ids = [str(tally.next_id + n) for n in range(size)]
            tally.next_id += size
            ids += [f"ghost-{tally.next_id}-{n}" for n in range(ghosts)]  # never existed
            tally.steps += 1
            with app.app_context():
                deletion = deletions.request_deletion(
                    ids,
                    deletions.DeletionOptions("machine", undo_seconds=30 if window else 0),
                    deletions.Requester("machine"),
                    kind="list",
                    send_inline=False,
                )
                return deletion.id

        @rule(deletion_id=made)
        def undo(self, deletion_id: int) -> None:
            self._do("undo", lambda: deletions.undo(deletion_id, "machine"))

        @rule(target=paused, deletion_id=made)
        def pause(self, deletion_id: int) -> Any:
            if self._do("pause", lambda: deletions.pause(deletion_id, "machine")):
                return deletion_id
            return multiple()

        @rule(deletion_id=st.one_of(paused, made))
        def resume(self, deletion_id: int) -> None:
            self._do("resume", lambda: deletions.resume(deletion_id, "machine"))

        @rule(deletion_id=made)
        def cancel(self, deletion_id: int) -> None:
            self._do("cancel", lambda: deletions.cancel(deletion_id, "machine"))

        @rule(deletion_id=made)
        def retry(self, deletion_id: int) -> None:
            self._do(
                "retry",
                lambda: deletions.retry_failures(
                    deletion_id, deletions.Requester("machine"), send_inline=False
                ),
            )

        @rule(deletion_id=made)
        def restore(self, deletion_id: int) -> None:
            def restore() -> None:
                ids = [s.id for s in deletions.restorable(deletion_id)]
                deletions.restore(ids, "machine")

            self._do("restore", restore)

        @rule(deletion_id=made)
        def window_ends(self, deletion_id: int) -> None:
            tally.steps += 1
            with app.app_context():
                past = utcnow() - timedelta(seconds=1)
                db.session.execute(
                    update(DeletionRequest)
                    .where(DeletionRequest.id == deletion_id, DeletionRequest.state == "scheduled")
                    .values(send_at=past, next_attempt_at=past)
                )
                db.session.commit()

        @rule()
        def dispatcher_step(self) -> None:
            tally.steps += 1
            with app.app_context():
                work = deletions.pending_work()
                for deletion_id in work.pending:
                    deletions.send(deletion_id)
                for deletion_id in work.unknown:
                    deletions.reconcile(deletion_id)

        @rule()
        def poller_step(self) -> None:
            tally.steps += 1
            poller.run_once()

        @rule(on=st.booleans())
        def upstream_holds(self, on: bool) -> None:
            tally.steps += 1
            sandbox.settings.hold = on
            sandbox.state.wake()

        @invariant()
        def what_is_shown_is_what_the_sandbox_did(self) -> None:
            with app.app_context():
                check_truth(sandbox, tally, self.since)

    return Lifecycle


def check_truth(sandbox: SandboxServer, tally: Tally, since: int = 0) -> None:
    """The invariants of the life cycle, on the deletions made after deletion `since` (an app
    context is open); the counters against a recount of every item."""
    items = list(db.session.scalars(select(DeletionItem).where(DeletionItem.deletion_id > since)))
    restored = set(
        db.session.scalars(
            select(ImageSnapshot.image_id).where(ImageSnapshot.restored_at.is_not(None))
        )
    )
    by_image: dict[str, list[DeletionItem]] = {}
    for item in items:
        by_image.setdefault(item.image_id, []).append(item)
    for image_id, found in by_image.items():
        if image_id.startswith("ghost-"):
            assert all(i.outcome != "deleted" for i in found), f"{image_id} never existed"
            continue
        gone = sandbox.state.get_image(image_id) is None
        outcomes = {i.outcome for i in found}
        if gone:  # every image the sandbox deleted is shown deleted (or still in progress)
            assert outcomes & {"deleted", *IN_PROGRESS}, (image_id, outcomes)
            # no action said "not sent" for an image the sandbox received and deleted
            assert "not_sent" not in outcomes, (image_id, outcomes)
        elif image_id not in restored:  # nothing shown deleted that the sandbox still has
            assert "deleted" not in outcomes, (image_id, outcomes)
        tally.checks += 2
    for deletion in db.session.scalars(select(DeletionRequest).where(DeletionRequest.id > since)):
        if deletion.state in FINAL_DELETION_STATES:  # a finished deletion runs nothing
            assert all(op.is_finished for op in deletion.operations), deletion.id
            counts = deletions.outcome_counts(deletion.id)
            assert not set(counts) & set(IN_PROGRESS), (deletion.id, deletion.state, counts)
        tally.checks += 1
    deleted = select(func.count()).where(DeletionItem.outcome == "deleted")
    recount = db.session.scalar(deleted)  # the counters equal a recount from the items
    counted = metrics.counters(metrics.period_named("day"), utcnow())
    assert counted.console_deleted == recount, (counted.console_deleted, recount)
    assert counted.deletions == db.session.query(DeletionRequest).count()
    tally.checks += 2
    db.session.rollback()
