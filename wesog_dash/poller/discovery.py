"""Operations of the tenant that this console did not start: importing the upstream list."""

from __future__ import annotations

from .. import audit
from ..deletions import finish_operation
from ..extensions import db
from ..models import Operation
from ..operations import record_snapshot
from ..upstream import upstream_call, wesog_client


def import_from_api(*, actor: str) -> int:
    """Record every operation `GET /ops` lists; returns how many were new to us."""
    with upstream_call("GET /ops"):  # before any write: no lock is held while waiting
        snapshots = wesog_client().list_operations()
    new = 0
    for op in snapshots:
        if op.op_id is None:
            continue
        is_new = db.session.get(Operation, op.op_id) is None
        row = record_snapshot(op, origin="imported")
        new += is_new
        if is_new and row.is_finished:
            # It ended before we knew it: nothing of ours to apply, nothing to announce.
            row.outcomes_applied = True
        elif row.is_finished:
            finish_operation(row)
    details = {"count": new, "listed": len(snapshots)}
    audit.record("operation.imported", actor=actor, details=details)
    db.session.commit()
    return new
