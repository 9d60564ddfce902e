"""What the client asks before each request (a gate, such as the console's request budget),
and how reads are retried with and without one."""

from __future__ import annotations

from typing import Protocol

from urllib3.util.retry import Retry

READ_RETRY = Retry(
    total=2,
    connect=2,
    read=1,
    status=2,
    backoff_factor=0.2,
    status_forcelist=(500, 502, 503, 504),
    allowed_methods=frozenset({"GET"}),
    raise_on_status=False,
    # A 429 is surfaced as WesogRateLimited: sleeping inside the call would block a web
    # worker or a poller thread; callers schedule their own retry.
    respect_retry_after_header=False,
)
# With a gate, every attempt must pass it, so reads are retried here rather than by urllib3.
GATED_RETRY = Retry(total=2, connect=2, read=0, status=0, other=0, raise_on_status=False)
GATED_READ_ATTEMPTS = 3  # one try plus two retries, like READ_RETRY


class Gate(Protocol):
    """What the client asks before each request (a request budget, for instance)."""

    def before_call(self) -> None:
        """Block until the request may go, or raise a WesogError."""

    def rate_limited(self, retry_after: float | None) -> None:
        """Hear that the API answered 429."""

    def completed(self, route: str | None, seconds: float, trouble: str | None) -> None:
        """Hear how a call other than a 429 went: `trouble` "5xx", "timeout" or None (answered);
        `route` (reads only) and `seconds` tell whether the API is getting slower."""
