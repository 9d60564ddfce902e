"""What the live part of a deletion needs, shared by the deletion and the operation pages."""

from __future__ import annotations

from typing import Any

from .. import deletions
from ..models import DeletionRequest

MAX_ITEMS_SHOWN = 200


def deletion_live_context(deletion: DeletionRequest) -> dict[str, Any]:
    """Items (the first MAX_ITEMS_SHOWN), their total, the outcome counts, and what the safety
    net offers now (undo, pause, cancel, retry, restore)."""
    context = deletions.item_summary(deletion.id, MAX_ITEMS_SHOWN)
    context["standing"] = deletions.standing(deletion)
    return context
