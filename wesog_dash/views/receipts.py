"""Erasure receipts in the browser: the signed JSON to download and a page to print."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from ..accounts.permissions import role_required
from ..audit import receipts
from .common import attachment

bp = Blueprint("receipts", __name__)
PRINTED_ITEMS = 1000  # the printed page lists this many images; the JSON has them all
STATUS = {"not-found": 404, "no-image": 404, "not-finished": 409}


def issued(deletion_id: int) -> dict[str, Any]:
    """The signed receipt of the deletion (of one image with ?image_id=), or an error page."""
    image_id = request.args.get("image_id") or None
    try:
        return receipts.issue(deletion_id, image_id)
    except receipts.ReceiptError as error:
        abort(STATUS[error.reason], description=error.message)


@bp.get("/deletions/<int:deletion_id>/receipt.json")
@role_required("viewer")
def receipt_json(deletion_id: int) -> Response:
    """The signed receipt as a JSON file (check it with `flask audit verify-receipt FILE`)."""
    receipt = issued(deletion_id)
    scope = "-image" if receipt["scope"].get("image_id") is not None else ""
    text = json.dumps(receipt, indent=1, ensure_ascii=False) + "\n"
    name = f"deletion-{deletion_id}{scope}-receipt.json"
    return attachment(text, name, "application/json; charset=utf-8")


@bp.get("/deletions/<int:deletion_id>/receipt")
@role_required("viewer")
def receipt_page(deletion_id: int) -> str:
    """The receipt as a page to print or save as PDF, with its signature."""
    receipt = issued(deletion_id)
    operations = {op["op_id"]: op for op in receipt["operations"]}
    return render_template(
        "deletions/receipt.html",
        receipt=receipt,
        operations=operations,
        shown=receipt["items"][:PRINTED_ITEMS],
        image_id=receipt["scope"].get("image_id"),
    )
