"""What live fragments share: a deletion's items (deletion and operation pages), and the
toasts that announce operations ending (operation pages, the polled lists)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from werkzeug.wrappers import Response

from .. import deletions, operations
from ..models import DeletionRequest, Operation
from .common import announce_end, sent_token
from .deletion_overall import OPS_UNFOLDED, overall

MAX_ITEMS_SHOWN = 200


def deletion_live_context(deletion: DeletionRequest) -> dict[str, Any]:
    """Items (the first MAX_ITEMS_SHOWN), their total, the outcome counts, the progress across
    all operations, and what the safety net offers now (undo, pause, cancel, retry, restore)."""
    context = deletions.item_summary(deletion.id, MAX_ITEMS_SHOWN)
    context["standing"] = deletions.standing(deletion)
    context["overall"] = overall(deletion)
    context["ops_unfolded"] = OPS_UNFOLDED
    return context


def finished_toast(response: Response, row: Operation) -> Response:
    """Announce that `row` ended: a toast linking to it, and the badge refreshes."""
    href = url_for("ops.op_detail", op_id=row.op_id)
    if row.state == "cancelled":
        return announce_end(
            response, f"Operation #{row.op_id} cancelled before it ran", "info", href
        )
    if row.num_bad:
        plural = "" if row.num_bad == 1 else "s"
        message = f"Operation #{row.op_id} finished with {row.num_bad} failure{plural}"
        return announce_end(response, message, "error", href)
    return announce_end(response, f"Operation #{row.op_id} finished", "success", href)


def toast_ended_since(response: Response) -> Response:
    """A polled list that changed announces the operations that ended since its last version."""
    since = sent_token()[1]
    ended = operations.ended_since(since) if since else []
    if len(ended) == 1:
        return finished_toast(response, ended[0])
    if ended:
        failed = sum(1 for row in ended if row.num_bad)
        message = f"{len(ended)} operations finished" + (
            f", {failed} with failures" if failed else ""
        )
        return announce_end(response, message, "error" if failed else "success")
    return response
