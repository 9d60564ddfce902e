"""Small helpers shared by the image, deletion and operation views."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, make_response, request
from werkzeug.datastructures import MultiDict

from ..wesog.errors import (
    WesogAuthError,
    WesogBadResponse,
    WesogError,
    WesogNotFound,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)

TRUE_WORDS = {"1", "true", "on", "yes"}


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a boosted page load)."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


def form_flag(form: MultiDict[str, str], name: str) -> bool:
    """A checkbox value: present and truthy."""
    return form.get(name, "").strip().lower() in TRUE_WORDS


def int_arg(name: str, default: int = 1, minimum: int = 1, maximum: int = 10_000) -> int:
    """A whole-number query argument, clamped; junk falls back to `default`."""
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(minimum, min(maximum, value))


def upstream_problem(exc: WesogError) -> tuple[str, int]:
    """A user-facing sentence and our HTTP status for an upstream error (and a log record)."""
    # The record for operators: the error's class and message only (messages never hold the key).
    # A rejected formula or an unknown id is the user's input, not an outage.
    expected = isinstance(exc, WesogValidationError | WesogNotFound)
    level = logging.INFO if expected else logging.WARNING
    current_app.logger.log(
        level, "Wesog API problem on %s %s: %s: %s",
        request.method, request.path, type(exc).__name__, exc.message,
    )  # fmt: skip
    if isinstance(exc, WesogAuthError):
        return (
            "The Wesog API refused the configured key. An administrator must check WESOG_API_KEY.",
            502,
        )
    if isinstance(exc, WesogValidationError):
        return f"The Wesog API rejected this: {exc.message}", 422
    if isinstance(exc, WesogRateLimited):
        wait = math.ceil(exc.retry_after) if exc.retry_after is not None else None
        when = f"retry in {wait} s" if wait is not None else "retry in a moment"
        return f"The Wesog API is rate limiting this console; {when}.", 503
    if isinstance(exc, WesogNotFound):
        return f"The Wesog API does not know it: {exc.message}", 404
    if isinstance(exc, WesogUnavailable):
        return f"Cannot reach the Wesog API; try again in a moment. ({exc.message})", 502
    if isinstance(exc, WesogBadResponse):
        return f"The Wesog API answered something unreadable: {exc.message}", 502
    return f"The Wesog API call failed: {exc.message}", 502


def swap_error(body: str, status: int) -> Response:
    """An error response whose fragment htmx should still swap in (app.js honours the header)."""
    response = make_response(body, status)
    response.headers["X-Swap-Error"] = "1"
    response.headers["Vary"] = "HX-Request"
    return response


def poll_seconds() -> float:
    """How often polled fragments refresh: the poller's own interval."""
    return max(0.2, float(current_app.config.get("WESOG_POLL_INTERVAL") or 1.0))


def poll_trigger(factor: float = 1.0) -> str:
    """An hx-trigger value polling every WESOG_POLL_INTERVAL × factor."""
    millis = round(poll_seconds() * factor * 1000)
    return f"every {millis}ms"


def announce_end(response: Response, message: str, level: str = "success") -> Response:
    """Something ended: a toast (app.js) and `ops-changed`, which refreshes the nav badge."""
    events = {"toast": {"message": message, "level": level}, "ops-changed": True}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


@dataclass(frozen=True)
class Bar:
    """A stacked progress bar: good and bad out of total, with whole-percent widths for CSS."""

    total: int
    good: int
    bad: int

    @property
    def done(self) -> int:
        """Elements processed so far (never more than the total, when there is one)."""
        done = self.good + self.bad
        return min(done, self.total) if self.total else done

    @property
    def widths(self) -> tuple[int, int]:
        """Whole percents of good and bad; they add up to the rounded percent done."""
        if self.total <= 0:
            return 0, 0
        good = min(100, round(100 * self.good / self.total))
        return good, max(0, min(100, round(100 * self.done / self.total)) - good)


def bar_of(source: Any) -> Bar:
    """A Bar from anything with total/good/bad (a Progress) or num_total/num_good/num_bad."""
    if hasattr(source, "num_total"):
        return Bar(source.num_total or 0, source.num_good or 0, source.num_bad or 0)
    return Bar(source.total or 0, source.good or 0, source.bad or 0)


def deletion_bar(deletion: Any) -> Bar:
    """Progress of a deletion request over all its operations (nothing done before sending)."""
    ops = list(deletion.operations)
    total = max(deletion.item_count or 0, sum(op.num_total or 0 for op in ops))
    return Bar(total, sum(op.num_good or 0 for op in ops), sum(op.num_bad or 0 for op in ops))


def template_helpers() -> dict[str, Any]:
    """Globals the area templates use."""
    return {
        "poll_trigger": poll_trigger,
        "has_endpoint": lambda name: name in current_app.view_functions,
        "bar_of": bar_of,
        "deletion_bar": deletion_bar,
    }
