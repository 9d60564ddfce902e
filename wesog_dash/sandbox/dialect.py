"""What the sandbox accepts beyond the reference, and a rate above which it answers 429.

Two dialects (`SandboxSettings.dialect`):

* "sandbox" (the default): the conveniences the console was built against — a comma list
  after `∩` (`id∩a,b,c`), paging and filters on `GET /ops` with `X-Total-Count`, the
  non-official cancel `DELETE /ops/{op_id}`.
* "reference": only what wesog-api.md documents. A comma list after `∩` is refused with the
  API's 422 (the reference never gives the list's format); `GET /ops` is the bare array of
  every operation, its query parameters ignored as FastAPI ignores unknown ones, with no
  paging header; the cancel path, which the reference does not document, is not there (405).
  Unknown ids behave as the reference says in both dialects: `GET /imgs/{id}` is a 404, a
  relaxed delete or update ignores them, a strict one fails the element.

`max_calls_per_second` (0: no limit) admits at most that many API calls in any moving second
and answers the others 429 with a `Retry-After` (whole seconds, as HTTP wants).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

DIALECTS = ("sandbox", "reference")
WINDOW = 1.0  # seconds of the moving window


class RateWindow:
    """A moving one-second window of admitted calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()

    def admit(self, per_second: float) -> float | None:
        """Admit one call now, or return the seconds until one would be admitted."""
        if per_second <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            while self._admitted and self._admitted[0] <= now - WINDOW:
                self._admitted.popleft()
            if len(self._admitted) < max(1, int(per_second)):
                self._admitted.append(now)
                return None
            return max(0.001, self._admitted[0] + WINDOW - now)


def retry_after_header(seconds: float) -> str:
    """Seconds as a `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
