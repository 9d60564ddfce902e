"""The JSON API under /api/v1: personal Bearer tokens only, never cookies (so no CSRF).

`problems` (RFC 9457 errors), `inputs` (pydantic models of what comes in), `spec` (the OpenAPI
document, built from these and the answers' shapes in `wesog_dash.shapes`), and the views:
`reads`, `audit`, `writes`, `safety` (undo, pause, resume, cancel, retry, restore, report),
`docs`. A token's scope is checked here, before the view; the role in the view.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from werkzeug.wrappers import Response

from ...accounts import sessions, tokens
from ...extensions import csrf
from ..common import error_page
from .problems import init_errors, problem

bp = Blueprint(sessions.API_BLUEPRINT, __name__, url_prefix="/api/v1")
# No cookie ever authenticates here (see authenticate_by_token), so CSRF cannot apply.
csrf.exempt(bp)
init_errors(bp, error_page)

REFUSALS = {
    "missing": ("unauthorized", "Send a personal token: Authorization: Bearer <token>."),
    "unknown": ("unauthorized", "This token is not known here: Authorization: Bearer <token>."),
    "revoked": ("token-revoked", "This token was revoked; ask an admin for a new one."),
    "expired": ("token-expired", "This token has expired; ask an admin for a new one."),
    "disabled": ("account-disabled", "The owner of this token is disabled."),
}


@bp.before_request
def authenticate_by_token() -> Response | None:
    """Only `Authorization: Bearer <token>` authenticates; a session cookie is ignored."""
    doc = getattr(current_app.view_functions.get(request.endpoint or ""), "api_doc", None)
    if doc is not None and doc.scope == "public":
        return None
    check = tokens.request_check()  # Flask-Login's request loader reads the same check
    if check.user is None:
        slug, detail = REFUSALS[check.refusal or "missing"]
        response = problem(slug, detail)
        response.headers["WWW-Authenticate"] = 'Bearer realm="wesog-dash"'
        return response
    needed = doc.scope if doc is not None else "operate"  # an undocumented view: fail closed
    if needed == "operate" and check.scope != "operate":
        detail = "This token's scope is read; this needs an operate token (--scope operate)."
        return problem("insufficient-scope", detail)
    g.api_token = check.token
    return None


from . import approvals, audit, docs, policies, reads, receipts, safety, writes  # noqa: E402,F401  (the views register on bp)
