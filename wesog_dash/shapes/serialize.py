"""Rows to the API's models: one place, shared by the views and the CLI's `--json`."""

from __future__ import annotations

from typing import Any, Literal

from .. import deletions, operations
from ..audit.verdict import Verdict as KeptVerdict
from ..models import DeletionRequest, Operation
from . import schemas

FIRST_ITEMS = 100  # items shown inline with one deletion request


def operation_out(op: Operation) -> schemas.OperationOut:
    """One stored operation with its progress (counts, percent, ETA)."""
    names = set(schemas.OperationOut.model_fields) - {"progress"}
    data: dict[str, Any] = {name: getattr(op, name) for name in names}
    data["errors"] = list(op.errors or [])
    data["progress"] = schemas.Progress.model_validate(operations.progress(op))
    return schemas.OperationOut.model_validate(data)


def summary_data(deletion: DeletionRequest, counts: dict[str, int]) -> dict[str, Any]:
    """The fields of a deletion summary."""
    names = set(schemas.DeletionSummary.model_fields) - {"op_ids", "outcome_counts"}
    data: dict[str, Any] = {name: getattr(deletion, name) for name in names}
    data["op_ids"] = [op.op_id for op in deletion.operations]
    data["outcome_counts"] = counts
    return data


def summaries_out(rows: list[DeletionRequest]) -> list[schemas.DeletionSummary]:
    """Several deletion requests with their outcome counts (one grouped query)."""
    counts = deletions.outcome_counts_of([row.id for row in rows])
    return [schemas.DeletionSummary.model_validate(summary_data(r, counts[r.id])) for r in rows]


def deletion_out(deletion: DeletionRequest) -> schemas.Deletion:
    """One deletion request with its outcome counts and the first page of its items."""
    items, next_after = deletions.items_after(deletion.id, None, FIRST_ITEMS)
    data = summary_data(deletion, deletions.outcome_counts(deletion.id))
    data["items"] = [schemas.DeletionItem.model_validate(item) for item in items]
    data["items_next_after"] = next_after
    return schemas.Deletion.model_validate(data)


def verdict_out(verdict: KeptVerdict) -> schemas.Verdict:
    """The chain verdict as the audit page tells it."""
    report = verdict.report
    state: Literal["intact", "broken", "checking"] = (
        "checking" if report is None else "intact" if report.intact else "broken"
    )
    return schemas.Verdict(
        state=state,
        events=report.count if report else None,
        through_id=report.last.event_id if report and report.last else None,
        broken_id=report.broken_id if report else None,
        problem=report.problem if report else None,
        checked_at=verdict.checked_at,
    )
