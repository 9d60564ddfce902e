"""Erasure receipts: what a finished deletion did to each image, signed with the digest key.

A receipt is a JSON document a data-protection officer can keep and check offline: each image
id with its outcome and the evidence for it (the upstream operation and its times, or "inferred
from the image's state"), who asked, who approved, why, and the audit events that record it.
The body is signed with the audit digest key (Ed25519, `digests.signing_key`), and carries an
index of short hashes (per section, per column, per item) inside the signed text, so that
`flask audit verify-receipt` can name what was changed when the signature no longer holds.

Reads `models` only; building needs the database, checking (`receipt_check`) does not.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
    FINAL_DELETION_STATES,
    AuditEvent,
    DeletionItem,
    DeletionRequest,
    Operation,
    PolicyRun,
    utcnow,
)
from .digests import key_id, signing_key
from .receipt_format import KIND, VERSION, canonical, index_of

INFERRED = "inferred from the image's state"
NOT_SENT = "never sent to the API"


class ReceiptError(ValueError):
    """No receipt can be issued (yet); `reason` names why: not-found, not-finished, no-image."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


def _moment(value: datetime | None) -> str | None:
    return value.isoformat(timespec="microseconds") if value is not None else None


def finished_deletion(deletion_id: int) -> DeletionRequest:
    """The deletion, when it has ended for good (ReceiptError otherwise)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None:
        raise ReceiptError(f"There is no deletion request #{deletion_id}.", "not-found")
    if deletion.state not in FINAL_DELETION_STATES or deletion.is_live:
        raise ReceiptError(
            f"Deletion #{deletion_id} has not finished: a receipt is issued once every "
            "image's outcome is final.",
            "not-finished",
        )
    return deletion


def _deletion_part(deletion: DeletionRequest) -> dict[str, Any]:
    return {
        "id": deletion.id,
        "state": deletion.state,
        "requested_at": _moment(deletion.created_at),
        "finished_at": _moment(deletion.finished_at),
        "requester": deletion.actor,
        "reason": deletion.reason,
        "ticket": deletion.ticket,
        "selection": {"kind": deletion.selection_kind, "query": deletion.selection_query},
        "item_count": deletion.item_count,
        "ids_sha256": deletion.ids_sha256,
        "message": deletion.message,
    }


def _operations(deletion_id: int) -> dict[int, Operation]:
    rows = db.session.scalars(select(Operation).where(Operation.deletion_id == deletion_id))
    return {row.op_id: row for row in rows}


def _operation_part(op: Operation) -> dict[str, Any]:
    return {
        "op_id": op.upstream_id,
        "state": op.state,
        "created_at": _moment(op.created_at),
        "started_at": _moment(op.started_at),
        "finished_at": _moment(op.finished_at),
        "num_total": op.num_total,
        "num_good": op.num_good,
        "num_bad": op.num_bad,
    }


def _evidence(row: Any, ops: dict[int, Operation]) -> dict[str, Any]:
    """Why the outcome is believed: its operation, the image's state, or nothing was sent."""
    if row.inferred:
        return {"kind": "inferred", "note": INFERRED}
    op = ops.get(row.op_id) if row.op_id is not None else None
    if op is not None:
        return {
            "kind": "operation",
            "op_id": op.upstream_id,
            "finished_at": _moment(op.finished_at),
        }
    return {"kind": "none", "note": NOT_SENT}


def _item_rows(deletion_id: int, image_id: str | None) -> Iterable[Any]:
    """The items as plain rows (a request may hold 100,000: no ORM objects)."""
    query = select(
        DeletionItem.image_id,
        DeletionItem.outcome,
        DeletionItem.message,
        DeletionItem.settled_at,
        DeletionItem.op_id,
        DeletionItem.inferred,
    ).where(DeletionItem.deletion_id == deletion_id)
    if image_id is not None:
        query = query.where(DeletionItem.image_id == image_id)
    return db.session.execute(query.order_by(DeletionItem.position))


def _items_part(deletion_id: int, image_id: str | None, ops: dict[int, Operation]) -> list[Any]:
    return [
        {
            "image_id": row.image_id,
            "outcome": row.outcome,
            "message": row.message,
            "settled_at": _moment(row.settled_at),
            "evidence": _evidence(row, ops),
        }
        for row in _item_rows(deletion_id, image_id)
    ]


def _events(deletion_id: int, op_ids: Iterable[int]) -> list[AuditEvent]:
    """The audit events about the deletion and its operations, oldest first."""
    about = [AuditEvent.deletion_id == deletion_id]
    if ops := list(op_ids):
        about.append(AuditEvent.op_id.in_(ops))
    return list(db.session.scalars(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.id)))


def _event_part(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action": event.action,
        "at": _moment(event.at),
        "actor": event.actor,
        "outcome": event.outcome,
        "hash": event.hash,
    }


def _policy_approval(deletion_id: int) -> AuditEvent | None:
    """For a retention policy's run: the `policy.approved` event of the version that ran."""
    run = db.session.scalars(select(PolicyRun).where(PolicyRun.deletion_id == deletion_id)).first()
    if run is None:
        return None
    name, version = run.policy.name, run.policy_version
    query = select(AuditEvent).where(AuditEvent.action == "policy.approved")
    for event in db.session.scalars(query.order_by(AuditEvent.id.desc())):
        details = event.details or {}
        if details.get("name") == name and details.get("version") == version:
            return event
    return None


def _approval_part(events: list[AuditEvent]) -> dict[str, Any] | None:
    """Who approved the deletion (the last `deletion.approved` event; for a retention policy's
    run, whoever approved that version of the policy), if anyone had to."""
    approved = [e for e in events if e.action in ("deletion.approved", "policy.approved")]
    if not approved:
        return None
    event = approved[-1]
    found = {
        "approver": event.actor,
        "at": _moment(event.at),
        "reason": event.reason,
        "event_id": event.id,
    }
    if event.action == "policy.approved":
        found["policy"] = (event.details or {}).get("name")
        found["policy_version"] = (event.details or {}).get("version")
    return found


def build(deletion_id: int, image_id: str | None = None) -> dict[str, Any]:
    """The unsigned body of a receipt for a finished deletion (or for one image of it)."""
    deletion = finished_deletion(deletion_id)
    ops = _operations(deletion.id)
    items = _items_part(deletion.id, image_id, ops)
    if image_id is not None and not items:
        raise ReceiptError(
            f"Image {image_id!r} was not part of deletion #{deletion_id}.", "no-image"
        )
    used = {row["evidence"].get("op_id") for row in items}
    events = _events(deletion.id, ops)
    if policy := _policy_approval(deletion.id):
        events = sorted([*events, policy], key=lambda event: event.id)
    if image_id is not None:
        events = [e for e in events if e.image_id in (None, image_id)]
    return {
        "receipt": KIND,
        "version": VERSION,
        "issued_at": _moment(utcnow()),
        "scope": {"image_id": image_id} if image_id is not None else {"deletion": deletion.id},
        "deletion": _deletion_part(deletion),
        "approval": _approval_part(events),
        "operations": [_operation_part(op) for op in ops.values() if op.upstream_id in used],
        "items": items,
        "audit_events": [_event_part(event) for event in events],
    }


def sign(body: dict[str, Any]) -> dict[str, Any]:
    """The receipt: the body, its index and key id, and the Ed25519 signature over them."""
    key = signing_key()
    signed = {**body, "index": index_of(body), "key_id": key_id(key.public_key())}
    signature = key.sign(canonical(signed).encode("utf-8"))
    return {**signed, "signature": base64.b64encode(signature).decode()}


def issue(deletion_id: int, image_id: str | None = None) -> dict[str, Any]:
    """A signed receipt for a finished deletion, or for one image of it (ReceiptError)."""
    return sign(build(deletion_id, image_id))
