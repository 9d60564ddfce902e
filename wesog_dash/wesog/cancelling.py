"""Cancelling a queued operation: `DELETE /ops/{op_id}`, an extension the reference names but
does not document (wesog-api.md §1.3, §7 #17), so its answers are read as a typed result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import WesogBadResponse, WesogNotFound, WesogValidationError
from .operation import OperationSnapshot

CANNOT_CANCEL = "This Wesog API cannot cancel operations"
ALREADY_STARTED = "The operation had already started; it cannot be cancelled any more"


@dataclass(frozen=True)
class CancelResult:
    """What a cancel call achieved.

    `outcome`: `cancelled` (the API answered the cancelled operation, in `operation`),
    `started` (409: too late), or `unsupported` (404/405: this API has no cancel).
    """

    outcome: str
    message: str
    operation: OperationSnapshot | None = None

    @property
    def cancelled(self) -> bool:
        """True when the operation was cancelled upstream."""
        return self.outcome == "cancelled"


def cancel_result(call: Callable[[], Any], op_id: int) -> CancelResult:
    """Run the DELETE call and read its answer; other errors (5xx, timeouts) propagate."""
    try:
        body = call()
    except WesogNotFound:
        # We only cancel operations we know exist: a 404 says the route is missing.
        return CancelResult("unsupported", CANNOT_CANCEL)
    except WesogValidationError as exc:
        if exc.status == 409:
            return CancelResult("started", ALREADY_STARTED)
        raise
    except WesogBadResponse as exc:
        if exc.status == 405:
            return CancelResult("unsupported", CANNOT_CANCEL)
        raise
    operation = OperationSnapshot.from_json(body, op_id=op_id) if isinstance(body, dict) else None
    return CancelResult("cancelled", "Cancelled upstream", operation)
