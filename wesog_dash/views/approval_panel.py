"""What a deletion page shows about four eyes: the request as its requester confirmed it while
it waits for approval, or who approved it afterwards."""

from __future__ import annotations

from typing import Any

from .. import deletions, images
from ..models import DeletionRequest
from .guard_forms import ApprovalForm


def approval_context(deletion: DeletionRequest) -> dict[str, Any]:
    """The approval panel while the request waits (one look-up of the first 100 ids, when
    the page is opened), or who approved it afterwards."""
    if deletion.state != deletions.AWAITING:
        return {"approved": deletions.approval_event(deletion.id), "awaiting": False}
    ids = [item.image_id for item in deletions.items_of(deletion.id, limit=images.LOOKUP_LIMIT)]
    return {
        "approved": None,
        "awaiting": True,
        "preview_ids": ids,
        "lookup": images.look_up(ids),
        "lookup_limit": images.LOOKUP_LIMIT,
        "expires_at": deletions.expires_at(deletion),
        "approval_form": ApprovalForm(formdata=None, data={"seen": deletion.ids_sha256}),
        "reject_form": ApprovalForm(formdata=None),
    }
