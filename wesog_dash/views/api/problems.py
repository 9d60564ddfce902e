"""Errors of /api/v1 as `application/problem+json` (RFC 9457), one stable `type` per error.

Every type is listed in PROBLEM_TYPES with its title and status; the OpenAPI document and
the reference page describe them from this table, so a client may branch on `type`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from .. import outage

PROBLEM_BASE = "https://wesog-dash/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# slug -> (title, status, when it happens)
PROBLEM_TYPES: dict[str, tuple[str, int, str]] = {
    "invalid-request": (
        "Invalid request",
        400,
        "A parameter or the body is not what the endpoint takes; `errors` lists each problem.",
    ),
    "unauthorized": ("Unauthorized", 401, "No token, or a token this console does not know."),
    "token-expired": ("Token expired", 401, "The token's expiry has passed; issue a new one."),
    "token-revoked": ("Token revoked", 401, "The token was revoked."),
    "account-disabled": ("Account disabled", 401, "The token's owner is disabled."),
    "insufficient-scope": (
        "Insufficient scope",
        403,
        "The token's scope (read) does not allow this; issue one with --scope operate.",
    ),
    "forbidden": ("Forbidden", 403, "The owner's role does not allow this."),
    "read-only": ("Read-only", 403, "WESOG_READ_ONLY is set: nothing can be deleted."),
    "not-found": ("Not found", 404, "No such resource (or no such URL)."),
    "method-not-allowed": ("Method not allowed", 405, "The URL exists; `Allow` lists its methods."),
    "unsupported-media-type": (
        "Unsupported media type",
        415,
        "The body's Content-Type is not one the endpoint takes.",
    ),
    "undo-window-closed": (
        "Too late to undo",
        409,
        "The deletion has left its undo window "
        "(WESOG_UNDO_SECONDS; API and CLI deletions have none): cancel it.",
    ),
    "not-pausable": (
        "Cannot pause",
        409,
        "Only a deletion with chunks still to send (scheduled or pending) can be paused.",
    ),
    "not-paused": ("Not paused", 409, "Only a paused deletion can be resumed."),
    "nothing-to-cancel": (
        "Nothing to cancel",
        409,
        "The deletion has finished (or stopped): nothing is left to cancel.",
    ),
    "cancel-refused-upstream": (
        "Nothing could be cancelled",
        409,
        "Every chunk was sent and "
        "the Wesog API cancelled none of their operations (started, "
        "no cancel, or not reachable); `detail` says which.",
    ),
    "nothing-to-retry": (
        "Nothing to retry",
        409,
        "The deletion has no failed image (or not the one named by `image_id`).",
    ),
    "nothing-to-restore": (
        "Nothing to restore",
        409,
        "No image of the deletion can be "
        "restored now (not deleted, not finished, metadata not kept, or "
        "already restored).",
    ),
    "not-finished": (
        "Not finished",
        409,
        "The deletion has not finished: its erasure receipt "
        "is issued once every image's outcome is final.",
    ),
    "own-request": (
        "Your own request",
        403,
        "Someone other than the requester (or the policy's author) must approve it.",
    ),
    "not-awaiting-approval": (
        "Not waiting for approval",
        409,
        "It was approved, rejected, expired or changed meanwhile: read it again.",
    ),
    "no-dry-run": ("No dry run", 409, "The policy's dry run has not succeeded: run it again."),
    "policy-exists": ("Policy exists", 409, "A retention policy of that name exists already."),
    "policy-state": (
        "Not possible in this state",
        409,
        "Only an active or waiting policy can be paused, only a paused one resumed.",
    ),
    "too-many-matches": (
        "Too many matches",
        422,
        "A search formula matches more images than one deletion may hold (WESOG_QUERY_DELETE_MAX).",
    ),
    "upstream-rejected": (
        "Rejected by the Wesog API",
        422,
        "The Wesog API refused the request (e.g. a formula it cannot read).",
    ),
    "upstream-unavailable": (
        "Wesog API unavailable",
        502,
        "The Wesog API could not be reached or answered an error; nothing was changed here.",
    ),
    "upstream-rate-limited": (
        "Wesog API rate limit",
        503,
        "The Wesog API is rate limiting this console; retry later.",
    ),
    "database-unavailable": (
        "Database unavailable",
        503,
        "The console's database is not "
        "answering (restarting, out of reach, or full); nothing was "
        "changed: retry after `Retry-After` seconds.",
    ),
    "internal-error": ("Internal error", 500, "A bug: the server log has the details."),
}


class ApiProblem(Exception):
    """Raise in a view to answer with a problem document."""

    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.extra = slug, detail, extra


def problem_type(slug: str) -> str:
    """The stable `type` URI of a problem."""
    return PROBLEM_BASE + slug


def problem(slug: str, detail: str, **extra: Any) -> Response:
    """A problem+json response of a known type."""
    title, status, _ = PROBLEM_TYPES[slug]
    body = {"type": problem_type(slug), "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MEDIA_TYPE
    return response


HTTP_SLUGS = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    415: "unsupported-media-type",
}


def from_http_exception(error: HTTPException) -> Response:
    """An HTTPException (abort(), routing) as a problem document."""
    code = error.code or 500
    slug = HTTP_SLUGS.get(code, "internal-error" if code >= 500 else "invalid-request")
    description = error.description or error.name
    if code == 403 and "read-only" in description:
        slug = "read-only"
    response = problem(slug, description)
    if code not in (500, *HTTP_SLUGS):
        response.status_code = code
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def under_api(prefix: str) -> bool:
    """Is this request under the API's URL prefix?"""
    return request.path == prefix or request.path.startswith(prefix + "/")


def init_errors(bp: Blueprint, page_handler: Callable[[HTTPException], Any]) -> None:
    """Answer every error of `bp`, and unknown URLs under its prefix, as problems."""
    prefix = bp.url_prefix or ""

    def on_routing_error(error: HTTPException) -> Any:
        return from_http_exception(error) if under_api(prefix) else page_handler(error)

    def on_crash(error: Exception) -> Response:
        if outage.unreachable(error):
            outage.forget(error)
            return outage.unavailable(problem("database-unavailable", outage.sentence(error)))
        if current_app.config.get("PROPAGATE_EXCEPTIONS") or current_app.testing:
            raise error
        current_app.logger.exception("API crash on %s %s", request.method, request.path)
        return problem("internal-error", "Something went wrong on our side; it is logged.")

    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(ApiProblem, lambda e: problem(e.slug, e.detail, **e.extra))
    bp.register_error_handler(Exception, on_crash)
    # Also the app's: a URL under the prefix that matches no view, or a request refused
    # before routing (a NUL, no Host), still answers as a problem.
    bp.app_errorhandler(HTTPException)(on_routing_error)
    bp.app_errorhandler(404)(on_routing_error)
    bp.app_errorhandler(405)(on_routing_error)
    # A 400 raised before routing (the NUL guard) on a URL of no route, e.g. an id out of range.
    bp.app_errorhandler(400)(on_routing_error)
