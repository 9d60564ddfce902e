"""What the client asks before each request: a gate, such as the console's request budget."""

from __future__ import annotations

from typing import Protocol

from urllib3.util.retry import Retry

# With a gate, every attempt must pass it, so reads are retried here rather than by urllib3.
GATED_RETRY = Retry(total=2, connect=2, read=0, status=0, other=0, raise_on_status=False)
GATED_READ_ATTEMPTS = 3  # one try plus two retries, like READ_RETRY


class Gate(Protocol):
    """What the client asks before each request (a request budget, for instance)."""

    def before_call(self) -> None:
        """Block until the request may go, or raise a WesogError."""

    def rate_limited(self, retry_after: float | None) -> None:
        """Hear that the API answered 429."""
