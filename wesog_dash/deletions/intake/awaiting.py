"""Which new deletion requests wait for a second person before anything is sent.

Above WESOG_APPROVAL_THRESHOLD images (0: never), and every "delete all matches" of a person
while approvals are on, a request starts in `awaiting_approval` instead of `pending` (or its
undo window); `approval` then approves, rejects or expires it.
"""

from __future__ import annotations

from typing import Any

from ...config import settings

AWAITING = "awaiting_approval"
POLICY_ACTOR = "policy:"  # a retention policy's run was approved with its policy


def threshold() -> int:
    """More images than this need a second person (0: approvals are off)."""
    return settings().approval_threshold


def needs_approval(count: int, selection_kind: str, actor: str) -> bool:
    """True when approvals are on and the request is above the threshold, or is a person's
    "delete every match" (a policy's run is held only by the threshold)."""
    limit = threshold()
    if limit <= 0:
        return False
    every_match = selection_kind == "query" and not actor.startswith(POLICY_ACTOR)
    return count > limit or every_match


def hold(fields: dict[str, Any], count: int, selection_kind: str, actor: str) -> dict[str, Any]:
    """The initial state fields of a new request: waiting for approval when it needs it."""
    if not needs_approval(count, selection_kind, actor):
        return fields
    return {**fields, "state": AWAITING, "send_at": None, "next_attempt_at": None}
