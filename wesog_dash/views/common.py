"""What every view shares: fragment or page, polled fragments, no-store, error pages, toasts.

Display helpers (times, durations, progress bars, words for states) live in `display`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import (
    Flask,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    stream_with_context,
)
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from htmx_flask import make_response as htmx_response
from htmx_flask import request  # Flask's request, typed with htmx-flask's `htmx`
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response as BaseResponse

from .. import clock, deletions, heartbeat
from ..accounts.permissions import can, read_only
from ..config import settings
from ..database import read_without_transaction
from ..extensions import db
from ..inputs import whole_number
from ..upstream import upstream
from . import display, errors, words

F = TypeVar("F", bound=Callable[..., Any])


def wants_fragment() -> bool:
    """True for an htmx request that wants a fragment (not a boosted page load)."""
    return bool(request.htmx) and not request.htmx.boosted


def render_fragment_or_page(page: str, fragment: str, **context: Any) -> str:
    """Render `fragment` for htmx requests (that are not boosted), the full `page` otherwise."""
    return render_template(fragment if wants_fragment() else page, **context)


def no_store(body: Any, status: int = 200) -> Response:
    """A response that browsers and proxies must not cache (polled fragments)."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def attachment(body: Any, filename: str, content_type: str = "text/csv; charset=utf-8") -> Response:
    """A download (text, or chunks streamed inside the request's context), never cached."""
    if not isinstance(body, str):
        body = stream_with_context(body)
    # content_type, not mimetype: Werkzeug would add a second "; charset=utf-8".
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def polled(view: F) -> F:
    """Mark a fragment that pages poll: it must not count as user activity.

    Such a request neither refreshes the session's idle timer nor re-signs its cookie, so a
    tab left open still logs out after SESSION_IDLE_MINUTES (and polls stay cheap). It reads
    outside a transaction: a polled view writes at most one statement.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.passive_request = True
        read_without_transaction(db.session())
        return view(*args, **kwargs)

    wrapped.is_polled = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def is_passive_request() -> bool:
    """True inside a request to a @polled view."""
    return bool(g.get("passive_request"))


def undo_seconds() -> float:
    """The undo window of deletions made in the browser (WESOG_UNDO_SECONDS)."""
    return settings().undo_seconds


def requester() -> deletions.Requester:
    """The signed-in person asking for a deletion, and the address they ask from."""
    return deletions.Requester(current_user.username, current_user.id, request.remote_addr)


def int_arg(name: str, default: int = 1, minimum: int = 1, maximum: int = 10_000) -> int:
    """A whole-number query argument, clamped; junk falls back to `default`."""
    value = whole_number((request.args.get(name) or "").strip(), minimum=-(2**63), signed=True)
    if value is None:
        return default
    return max(minimum, min(maximum, value))


def poll_seconds() -> float:
    """How often polled fragments refresh: the poller's own interval."""
    return max(0.2, settings().poll_interval)


def poll_trigger(factor: float = 1.0) -> str:
    """An hx-trigger value polling every WESOG_POLL_INTERVAL × factor."""
    return f"every {round(poll_seconds() * factor * 1000)}ms"


def announce_end(
    response: BaseResponse, message: str, level: str = "success", href: str | None = None
) -> BaseResponse:
    """Something ended: a toast (app.js; a link to `href`) and `ops-changed` (the nav badge)."""
    toast = {"message": message, "level": level, **({"href": href} if href else {})}
    return htmx_response(response, trigger={"toast": toast, "ops-changed": True})


def list_token(scope: str, marker: str) -> str:
    """The version a polled list carries: a digest of what it shows (`marker`, the list's
    query arguments) and, after the dot, when it was rendered (ms since the epoch)."""
    args = sorted((k, v) for k, v in request.args.items(multi=True) if k != "v")
    basis = f"{scope}|{marker}|{urlencode(args)}"
    digest = hashlib.sha256(basis.encode()).hexdigest()[:20]
    # The console's clock, as the changes it is compared with (`ended_since`) were stamped:
    # the wall clock drifts from it in a long-running process, and a toast went missing.
    return f"{digest}.{int(clock.now().timestamp() * 1000)}"


def sent_token() -> tuple[str, datetime | None]:
    """The digest a polling list sent back (`v`), and when that version was rendered."""
    digest, _, raw_millis = request.args.get("v", "")[:64].partition(".")
    millis = whole_number(raw_millis)
    try:
        since = datetime.fromtimestamp(millis / 1000, UTC) if millis is not None else None
    except (ValueError, OverflowError, OSError):
        since = None
    return digest, since


def unchanged(token: str) -> bool:
    """True when the list's version is the one the browser already shows (answer 204)."""
    return sent_token()[0] == token.partition(".")[0]


def nothing_changed() -> Response:
    """204: htmx swaps nothing, the list stays and polls again."""
    return no_store("", 204)


def error_page(error: HTTPException) -> Response:
    """A friendly page (or fragment, for htmx) for an HTTP error."""
    if isinstance(error, SecurityError):
        # No URL can be built for an untrusted Host: plain text, and no link to follow.
        message = (
            "This console does not answer to that host name. Its administrator can allow it "
            "with WESOG_BASE_URL or WESOG_TRUSTED_HOSTS.\n"
        )
        return Response(message, 400, content_type="text/plain; charset=utf-8")
    template = "shared/_error.html" if request.htmx else "shared/error.html"
    view = errors.describe(error)
    response = make_response(render_template(template, error=view), view.code)
    for name in ("Allow", "Retry-After"):  # a 405 says what is allowed; a 429 when to retry
        if value := dict(error.get_headers()).get(name):
            response.headers[name] = value
    return response


MAX_ROW_ID = 2**63 - 1  # operation ids are signed 64-bit (upstream's numbers)
MAX_SERIAL_ID = 2**31 - 1  # our own rows' ids are INTEGER on PostgreSQL


class RowIdConverter(IntegerConverter):
    """`<int:…>` in every route: an id that fits its column, else 404 (never a 500).

    Our own rows (users, deletions, tokens…) have 32-bit ids on PostgreSQL; `<int(signed=True)>`
    is for operation ids: 64-bit, and negative for retired operations.
    """

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("signed"):
            kwargs.setdefault("max", MAX_ROW_ID)
            kwargs.setdefault("min", -MAX_ROW_ID)
        else:
            kwargs.setdefault("max", MAX_SERIAL_ID)
        super().__init__(url_map, *args, **kwargs)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that absurdly nested input is a bad request, not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse; RecursionError (thousands of nested brackets) becomes a ValueError."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON is nested too deeply") from exc


def int_arg_or_none(name: str) -> int | None:
    """An optional id-like query argument: None when absent, junk or out of range."""
    return whole_number(request.args.get(name, "").strip(), maximum=MAX_SERIAL_ID)


def init_app(app: Flask) -> None:
    """Register the URL converter, JSON limits, template helpers and error pages."""
    app.url_map.converters["int"] = RowIdConverter
    app.json = BoundedJSONProvider(app)
    app.jinja_env.filters["local_time"] = display.local_time
    app.jinja_env.filters["duration_ms"] = display.duration_ms
    app.jinja_env.filters["word"] = display.word
    app.jinja_env.filters["action_word"] = display.action_word
    app.jinja_env.filters["field_word"] = words.field_word
    # Globals, not context: imported macros (`shared/_state_badge.html`) see them too.
    app.jinja_env.globals.update(
        badge=display.badge,
        eta_words=display.eta_words,
        card_token=display.card_token,
        selection_words=display.selection_words,
        method_words=words.method_words,
        plural=words.plural,
        shown_state=words.shown_state,
        idempotency_key=lambda: uuid.uuid4().hex,  # one per drawn form: a double submit is one
        stop_reach=deletions.stop_reach,  # what the stop rule cannot do, said before sending
    )

    @app.context_processor
    def shared_context() -> dict[str, Any]:
        return {
            "is_sandbox": upstream(app).is_sandbox,
            "poller_notice": heartbeat.PageNotice(app),
            "read_only": read_only(),
            "can": can,
            "poll_trigger": poll_trigger,
            "has_endpoint": lambda name: name in current_app.view_functions,
            "bar_of": display.bar_of,
            "deletion_bar": display.deletion_bar,
        }

    app.register_error_handler(HTTPException, error_page)
    app.after_request(vary_on_htmx)


def vary_on_htmx(response: Response) -> Response:
    """A page and its htmx fragment share a URL: caches must keep them apart."""
    if request.blueprint != "api":
        response.vary.add("HX-Request")
    return response
