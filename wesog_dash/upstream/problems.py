"""Upstream errors as the console tells them: one sentence and our HTTP status, plus a log line.

Services turn a typed `WesogError` into an `UpstreamProblem` (`with upstream_call(): …`), so
that views handle one exception of ours and never import the Wesog client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import has_request_context, request

from ..wesog.errors import (
    WesogAuthError,
    WesogBadResponse,
    WesogError,
    WesogNotFound,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)

log = logging.getLogger("wesog_dash.upstream")


@dataclass(frozen=True)
class Problem:
    """What a page says about an upstream failure, and the status it answers with."""

    message: str
    status: int
    kind: str  # auth | rejected | rate_limited | not_found | unavailable | bad_response | failed


class UpstreamProblem(Exception):
    """A Wesog API call failed; `problem` says how, in words fit for a page."""

    def __init__(self, problem: Problem, error: WesogError) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.error = error

    @property
    def message(self) -> str:
        """The sentence to show."""
        return self.problem.message

    @property
    def status(self) -> int:
        """Our HTTP status for it."""
        return self.problem.status


def describe(exc: WesogError) -> Problem:
    """A user-facing sentence and our HTTP status for an upstream error."""
    if isinstance(exc, WesogAuthError):
        message = (
            "The Wesog API refused the configured key. An administrator must check WESOG_API_KEY."
        )
        return Problem(message, 502, "auth")
    if isinstance(exc, WesogValidationError):
        return Problem(f"The Wesog API rejected this: {exc.message}", 422, "rejected")
    if isinstance(exc, WesogRateLimited):
        wait = math.ceil(exc.retry_after) if exc.retry_after is not None else None
        when = f"retry in {wait} s" if wait is not None else "retry in a moment"
        return Problem(f"The Wesog API is rate limiting this console; {when}.", 503, "rate_limited")
    if isinstance(exc, WesogNotFound):
        return Problem(f"The Wesog API does not know it: {exc.message}", 404, "not_found")
    if isinstance(exc, WesogUnavailable):
        message = f"Cannot reach the Wesog API; try again in a moment. ({exc.message})"
        return Problem(message, 502, "unavailable")
    if isinstance(exc, WesogBadResponse):
        message = f"The Wesog API answered something unreadable: {exc.message}"
        return Problem(message, 502, "bad_response")
    return Problem(f"The Wesog API call failed: {exc.message}", 502, "failed")


def problem_of(exc: WesogError, where: str = "") -> UpstreamProblem:
    """The UpstreamProblem for `exc`, with a log record (class and message, never the key)."""
    # A rejected formula or an unknown id is the user's input, not an outage.
    expected = isinstance(exc, WesogValidationError | WesogNotFound)
    if has_request_context():  # the page that met it, then the upstream call
        where = f"{request.method} {request.path}" + (f" ({where})" if where else "")
    log.log(
        logging.INFO if expected else logging.WARNING,
        "Wesog API problem%s: %s: %s",
        f" on {where}" if where else "",
        type(exc).__name__,
        exc.message,
    )
    return UpstreamProblem(describe(exc), exc)


@contextmanager
def upstream_call(where: str = "") -> Iterator[None]:
    """Run Wesog client calls; a WesogError leaves as an UpstreamProblem."""
    try:
        yield
    except WesogError as exc:
        raise problem_of(exc, where) from exc
