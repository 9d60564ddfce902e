"""What every page shares: template helpers, fragment rendering, error pages, headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, make_response, render_template, request
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from .permissions import can, read_only
from .upstream import upstream


def render_fragment_or_page(page: str, fragment: str, **context: Any) -> str:
    """Render `fragment` for htmx requests (that are not boosted), the full `page` otherwise."""
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true":
        return render_template(fragment, **context)
    return render_template(page, **context)


def no_store(body: Any, status: int = 200) -> Response:
    """A response that browsers and proxies must not cache (polled fragments)."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request"
    return response


F = TypeVar("F", bound=Callable[..., Any])


def polled(view: F) -> F:
    """Mark a fragment that pages poll: it must not count as user activity.

    Such a request neither refreshes the session's idle timer nor re-signs its cookie, so a
    tab left open still logs out after SESSION_IDLE_MINUTES (and polls stay cheap).
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.passive_request = True
        return view(*args, **kwargs)

    wrapped.is_polled = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def is_passive_request() -> bool:
    """True inside a request to a @polled view."""
    return bool(g.get("passive_request"))


def local_time(value: datetime | None, missing: str = "—") -> Markup:
    """A <time> element: JavaScript shows it in the browser's zone, UTC on hover."""
    if value is None:
        return Markup(escape(missing))
    utc_text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time class="local-time" datetime="{}" title="{}">{}</time>').format(
        value.isoformat(), utc_text, utc_text
    )


def duration_ms(value: float | None) -> str:
    """Milliseconds as a short human duration."""
    if value is None:
        return "—"
    seconds = value / 1000.0
    if seconds < 1:
        return f"{value:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 90:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def error_page(error: HTTPException) -> tuple[str, int]:
    """A friendly page (or fragment, for htmx) for an HTTP error."""
    template = "_error.html" if request.headers.get("HX-Request") == "true" else "error.html"
    return render_template(template, error=error), error.code or 500


def init_app(app: Flask) -> None:
    """Register template helpers and error pages."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["duration_ms"] = duration_ms

    @app.context_processor
    def shared_context() -> dict[str, Any]:
        return {
            "is_sandbox": upstream(app).is_sandbox,
            "read_only": read_only(),
            "can": can,
        }

    app.register_error_handler(HTTPException, error_page)
