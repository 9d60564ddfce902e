"""Erasure receipts through the API: the signed JSON of a finished deletion (or one image)."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from ...accounts.permissions import role_required
from ...audit import receipts
from . import bp
from .inputs import ReceiptQuery
from .problems import ApiProblem
from .spec import operation

RECEIPT_BODY = {
    "type": "object",
    "description": "the signed receipt: `deletion`, `approval`, `operations`, `items` (image id, "
    "outcome, evidence), `audit_events`, `index`, `key_id` and an Ed25519 `signature` over the "
    "canonical JSON of the rest; check it with `flask audit verify-receipt FILE`",
}


@bp.get("/deletions/<int:deletion_id>/receipt")
@role_required("viewer")
@operation(
    "Erasure receipt (signed)",
    scope="read",
    query=ReceiptQuery,
    responses={200: RECEIPT_BODY},
    problems=(400, 404, "not-finished"),
    tag="deletions",
)
def deletion_receipt(deletion_id: int, query: ReceiptQuery) -> Response:
    """The signed erasure receipt of a finished deletion (`image_id`: of one image of it)."""
    try:
        receipt = receipts.issue(deletion_id, query.image_id)
    except receipts.ReceiptError as error:
        slug = "not-finished" if error.reason == "not-finished" else "not-found"
        raise ApiProblem(slug, error.message) from error
    return jsonify(receipt)
