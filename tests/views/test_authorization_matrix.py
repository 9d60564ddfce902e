"""Every route × (anonymous, viewer, operator, admin) → the expected answer.

ROUTES is the specification: one line per (endpoint, method). A route the app serves but the
table does not list fails `test_every_route_is_in_the_table`, so a new route cannot ship
without deciding who may use it. Pages and fragments share the cookie rules (anonymous → login,
too low a role → 403, state changes need a CSRF token); /api/v1 takes Bearer tokens only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from
from wesog_dash import accounts
from wesog_dash.accounts import tokens

PUBLIC = "public"
IDENTITIES = ("viewer", "operator", "admin", "anonymous")
LEVEL = {"anonymous": -1, PUBLIC: -1, "viewer": 0, "operator": 1, "admin": 2}


@dataclass(frozen=True)
class Route:
    """One row: endpoint, method, sample URL arguments, required role, does it change state."""

    endpoint: str
    method: str
    args: dict[str, Any]
    role: str
    changes_state: bool
    destructive: bool = False
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def is_api(self) -> bool:
        """Under /api/v1: Bearer tokens, JSON, no cookies, no CSRF."""
        return self.endpoint.startswith("api.")

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint}"


R = Route
OP, DEL, IMG = {"op_id": 1}, {"deletion_id": 1}, {"image_id": "100001"}
SEL = {"selection_id": 1}
USER = {"user_id": 1}
POL = {"policy_id": 1}
ROUTES = [
    # endpoint, method, URL args, required role, changes state (, destructive=True)
    R("static", "GET", {"filename": "app.css"}, PUBLIC, False),
    R("auth.login", "GET", {}, PUBLIC, False),
    R("auth.login", "POST", {}, PUBLIC, True),
    R("auth.logout", "POST", {}, PUBLIC, True),
    R("auth.logout_everywhere", "POST", {}, "viewer", True, body={"tokens": "keep"}),
    R("auth.setup", "GET", {"token": "not-a-token"}, PUBLIC, False),
    R("auth.setup", "POST", {"token": "not-a-token"}, PUBLIC, True),
    R("overview.index", "GET", {}, "viewer", False),
    R("overview.health", "GET", {}, PUBLIC, False),
    R("overview.overview_live", "GET", {}, "viewer", False),
    R("health.ready", "GET", {}, PUBLIC, False),
    R("health.metrics", "GET", {}, PUBLIC, False),
    R("overview.realtime", "GET", {}, "viewer", False),
    R("overview.alert_test", "POST", {}, "admin", True),
    R("reports.report_page", "GET", {}, "viewer", False),
    R("reports.days_csv", "GET", {}, "viewer", False),
    R("reports.deletions_csv", "GET", {}, "viewer", False),
    R("images.image_list", "GET", {}, "viewer", False),
    R("images.image_detail", "GET", IMG, "viewer", False),
    R("images.image_cards", "POST", {}, "viewer", False),
    R("deletions.deletion_new", "GET", {}, "operator", False, destructive=True),
    R("deletions.deletion_new", "POST", {}, "operator", True, destructive=True),
    R("deletions.deletion_create", "POST", {}, "operator", True, destructive=True),
    R("deletions.deletion_detail", "GET", DEL, "viewer", False),
    R("deletion_list.deletion_list", "GET", {}, "viewer", False),
    R("deletion_list.deletion_list_live", "GET", {}, "viewer", False),
    R("deletions.deletion_live", "GET", DEL, "viewer", False),
    R("deletions.deletion_card", "GET", DEL, "viewer", False),
    # The safety net: taking a deletion back is allowed while read-only; sending again is not.
    R("safety.deletion_undo", "POST", DEL, "operator", True),
    R("safety.deletion_pause", "POST", DEL, "operator", True),
    R("safety.deletion_resume", "POST", DEL, "operator", True, destructive=True),
    R("safety.deletion_cancel", "POST", DEL, "operator", True),
    R("safety.deletion_retry", "POST", DEL, "operator", True, destructive=True),
    R("safety.deletion_restore", "POST", DEL, "operator", True, destructive=True),
    R("safety.snapshot_restore", "POST", {"snapshot_id": 1}, "operator", True, destructive=True),
    R("safety.deletion_report", "GET", DEL, "viewer", False),
    R("approvals.deletion_approve", "POST", DEL, "operator", True, destructive=True),
    R("approvals.deletion_reject", "POST", DEL, "operator", True),
    R("receipts.receipt_json", "GET", DEL, "viewer", False),
    R("receipts.receipt_page", "GET", DEL, "viewer", False),
    R(
        "selections.selection_detail",
        "GET",
        {"selection_id": 1},
        "operator",
        False,
        destructive=True,
    ),
    R("selections.selection_live", "GET", {"selection_id": 1}, "operator", False, destructive=True),
    R("ops.op_list", "GET", {}, "viewer", False),
    R("ops.op_list_live", "GET", {}, "viewer", False),
    R("ops.running_count", "GET", {}, "viewer", False),
    R("ops.op_detail", "GET", OP, "viewer", False),
    R("ops.op_progress", "GET", OP, "viewer", False),
    R("ops.op_row", "GET", OP, "viewer", False),
    R("ops.op_errors", "GET", OP, "viewer", False),
    R("ops.op_track", "POST", {}, "operator", True),
    R("ops.op_import", "POST", {}, "operator", True),
    R("ops.op_untrack", "POST", OP, "operator", True),
    R("policies.policy_list", "GET", {}, "viewer", False),
    R("policies.policy_create", "POST", {}, "operator", True, destructive=True),
    R("policies.policy_detail", "GET", POL, "viewer", False),
    R("policies.policy_change", "POST", POL, "operator", True, destructive=True),
    R("policies.policy_approve", "POST", POL, "operator", True, destructive=True),
    R("policies.policy_pause", "POST", POL, "operator", True),
    R("policies.policy_resume", "POST", POL, "operator", True, destructive=True),
    R("policies.policy_dry_run", "POST", POL, "operator", True),
    R("audit.audit_log", "GET", {}, "viewer", False),
    R("audit.audit_verdict", "GET", {}, "viewer", False),
    R("audit.export_csv", "GET", {}, "viewer", False),
    R("audit.export_jsonl", "GET", {}, "viewer", False),
    R("audit.image_history", "GET", IMG, "viewer", False),
    # Managing users is not @destructive: the read-only switch protects images, not accounts.
    R("users.user_list", "GET", {}, "admin", False),
    R("users.user_create", "POST", {}, "admin", True),
    R("users.user_set_role", "POST", USER, "admin", True),
    R("users.user_disable", "POST", USER, "admin", True),
    R("users.user_end_sessions", "POST", USER, "admin", True),
    R("users.token_revoke", "POST", {"token_id": 1}, "admin", True),
    R("tokens.token_list", "GET", {}, "operator", False),
    R("tokens.token_create", "POST", {}, "operator", True),
    R("tokens.token_revoke", "POST", {"token_id": 999_999}, "operator", True),  # none: 404
    R("api.openapi_document", "GET", {}, PUBLIC, False),
    R("api.reference_page", "GET", {}, PUBLIC, False),
    R("api.me", "GET", {}, "viewer", False),
    R("api.operation_list", "GET", {}, "viewer", False),
    R("api.operation_detail", "GET", OP, "viewer", False),
    R("api.deletion_list", "GET", {}, "viewer", False),
    R("api.deletion_detail", "GET", DEL, "viewer", False),
    R("api.deletion_items", "GET", DEL, "viewer", False),
    R("api.create_deletion", "POST", {}, "operator", True, destructive=True),
    # The safety net by token: the browser's rules (taking back is allowed while read-only).
    R("api.deletion_undo", "POST", DEL, "operator", True),
    R("api.deletion_pause", "POST", DEL, "operator", True),
    R("api.deletion_resume", "POST", DEL, "operator", True, destructive=True),
    R("api.deletion_cancel", "POST", DEL, "operator", True),
    R("api.deletion_retry", "POST", DEL, "operator", True, destructive=True),
    R("api.deletion_restore", "POST", DEL, "operator", True, destructive=True),
    R("api.deletion_report", "GET", DEL, "viewer", False),
    R("api.deletion_approve", "POST", DEL, "operator", True, destructive=True),
    R("api.deletion_reject", "POST", DEL, "operator", True),
    R("api.deletion_receipt", "GET", DEL, "viewer", False),
    R("api.policy_list", "GET", {}, "viewer", False),
    R("api.policy_create", "POST", {}, "operator", True, destructive=True),
    R("api.policy_detail", "GET", POL, "viewer", False),
    R("api.policy_change", "PUT", POL, "operator", True, destructive=True),
    R("api.policy_approve", "POST", POL, "operator", True, destructive=True),
    R("api.policy_pause", "POST", POL, "operator", True),
    R("api.policy_resume", "POST", POL, "operator", True, destructive=True),
    R("api.policy_dry_run", "POST", POL, "operator", True),
    R("api.audit_events", "GET", {}, "viewer", False),
    R("api.audit_verdict", "GET", {}, "viewer", False),
]


@dataclass
class Identity:
    """A way of calling the app: a session cookie (+ its CSRF token) and an API token."""

    name: str
    cookie: str | None
    csrf: str
    token: str | None


def served_routes(app: Flask) -> set[tuple[str, str]]:
    """(endpoint, method) of every rule the app serves (HEAD and OPTIONS are implied)."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def login_identity(app: Flask, name: str) -> Identity:
    """Log `name` in (a user of that role) and keep its session cookie, CSRF token and token."""
    client = app.test_client()
    if name == "anonymous":
        csrf = csrf_token_from(client.get("/login").get_data(as_text=True))
        return Identity(name, client.get_cookie("session").value, csrf, None)
    csrf = AuthActions(app, client).login(name, username=f"m-{name}")
    with app.app_context():
        token = tokens.issue_token(accounts.find_user(f"m-{name}"), actor="cli:test")
    return Identity(name, client.get_cookie("session").value, csrf, token)


@pytest.fixture
def identities(app: Flask) -> dict[str, Identity]:
    """Anonymous, viewer, operator and admin, each logged in once."""
    return {name: login_identity(app, name) for name in IDENTITIES}


def call(app: Flask, row: Route, who: Identity, *, csrf: bool, htmx: bool = False) -> Any:
    """One request for `row` as `who`; a crash of the view becomes a 500 for the report."""
    try:
        response = request_as(app, row, who, csrf=csrf, htmx=htmx)
        response.get_data()  # run streamed bodies (exports) to the end, inside their context
        response.close()
        return response
    except Exception as error:  # TESTING propagates exceptions; report them with the rest
        return app.response_class(f"{type(error).__name__}: {error}", status=500)


def request_as(app: Flask, row: Route, who: Identity, *, csrf: bool, htmx: bool) -> Any:
    """One request for `row` as `who`, on a fresh client holding only that session cookie."""
    client: FlaskClient = app.test_client()
    with app.test_request_context():
        from flask import url_for

        url = url_for(row.endpoint, **row.args)
    headers = {"HX-Request": "true"} if htmx else {}
    if row.is_api:
        if who.token:
            headers["Authorization"] = f"Bearer {who.token}"
        return client.open(url, method=row.method, json=row.body or {}, headers=headers)
    if who.cookie:
        client.set_cookie("session", who.cookie)
    data = dict(row.body)
    if csrf and row.method != "GET":
        if htmx:
            headers["X-CSRFToken"] = who.csrf
        else:
            data["csrf_token"] = who.csrf
    return client.open(url, method=row.method, data=data, headers=headers)


def goes_to_login(response: Any) -> bool:
    """A redirect to the login page (full page), or htmx's HX-Redirect there (fragment)."""
    if response.status_code == 302:
        return response.headers["Location"].startswith("/login")
    return response.status_code == 401 and "/login" in response.headers.get("HX-Redirect", "")


def verdict(row: Route, who: str, response: Any, *, htmx: bool = False) -> str | None:
    """None when the answer is the expected one, else what is wrong."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}: {response.get_data(as_text=True)[:200]}"
    if row.role == PUBLIC:
        return "403 on a public route" if status == 403 else None
    allowed = LEVEL[who] >= LEVEL[row.role]
    if row.is_api:
        expected = "ok" if allowed else (401 if who == "anonymous" else 403)
    elif who == "anonymous":
        return None if goes_to_login(response) else f"{status}, expected the way to /login"
    else:
        expected = "ok" if allowed else 403
    if expected == "ok" and row.endpoint in ENDS_OWN_SESSION:
        # Success is the bare login page (no ?next=: that would be a refusal).
        return None if response.headers.get("Location") == "/login" else f"{status}, not logged out"
    if expected == "ok":
        bad = status in (401, 403) or goes_to_login(response)
        return f"{status}, expected to be let in" if bad else None
    return None if status == expected else f"{status}, expected {expected}"


def test_every_route_is_in_the_table(app: Flask) -> None:
    listed = {(row.endpoint, row.method) for row in ROUTES}
    served = served_routes(app)
    missing = sorted(served - listed)
    assert not missing, f"routes without a row in ROUTES (add one line each): {missing}"
    assert not sorted(listed - served), f"rows for routes that no longer exist: {listed - served}"


def test_the_table_agrees_with_what_each_view_declares(app: Flask) -> None:
    wrong = []
    for row in ROUTES:
        view = app.view_functions[row.endpoint]
        declared = getattr(view, "required_role", PUBLIC)
        if declared != row.role:
            wrong.append(f"{row}: the view requires {declared}, the table says {row.role}")
        if getattr(view, "is_destructive", False) != row.destructive:
            wrong.append(f"{row}: @destructive on the view and in the table differ")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", IDENTITIES)
def test_each_route_answers_each_identity_as_the_table_says(
    app: Flask, identities: dict[str, Identity], who: str
) -> None:
    problems = []
    for row in ROUTES:
        response = call(app, row, identities[who], csrf=True)
        if problem := verdict(row, who, response):
            problems.append(f"{row} as {who}: {problem}")
        fresh(app, identities, row, who)
        if row.is_api or row.role == PUBLIC:
            continue
        fragment = call(app, row, identities[who], csrf=True, htmx=True)
        if problem := verdict(row, who, fragment, htmx=True):
            problems.append(f"{row} as {who}, htmx: {problem}")
        fresh(app, identities, row, who)
    assert not problems, "\n".join(problems)


# Routes that end the caller's own session on the server: the identity logs in again after.
ENDS_OWN_SESSION = {"auth.logout", "auth.logout_everywhere"}


def fresh(app: Flask, identities: dict[str, Identity], row: Route, who: str) -> None:
    """Log `who` in again after a route that ended its session."""
    if row.endpoint in ENDS_OWN_SESSION and who != "anonymous":
        identities[who] = login_identity(app, who)


def test_state_changes_without_a_csrf_token_are_refused(
    app: Flask, identities: dict[str, Identity]
) -> None:
    problems = []
    for row in ROUTES:
        if not row.changes_state or row.is_api:
            continue
        for who in IDENTITIES:
            response = call(app, row, identities[who], csrf=False)
            body = response.get_data(as_text=True)
            if response.status_code != 400 or "CSRF" not in body:
                problems.append(f"{row} as {who}: {response.status_code} without a CSRF token")
    assert not problems, "\n".join(problems)


def test_the_table_agrees_with_each_api_views_token_scope(app: Flask) -> None:
    for row in (r for r in ROUTES if r.is_api):
        scope = app.view_functions[row.endpoint].api_doc.scope
        expected = PUBLIC if row.role == PUBLIC else "operate" if row.changes_state else "read"
        assert scope == expected, f"{row}: scope {scope}, the table implies {expected}"


def test_a_read_token_may_only_read_whatever_the_role(app: Flask) -> None:
    problems = []
    for role in ("viewer", "operator", "admin"):
        with app.app_context():
            user = accounts.create_user(f"r-{role}", TEST_PASSWORD, role, actor="cli:test")
            token = tokens.issue(user, actor="cli:test", scope="read").token
        who = Identity(f"read-{role}", None, "", token)
        for row in (r for r in ROUTES if r.is_api and r.role != PUBLIC):
            response = call(app, row, who, csrf=False)
            body = response.get_json(silent=True) or {}
            if row.changes_state:
                if response.status_code != 403 or not body.get("type", "").endswith(
                    "/insufficient-scope"
                ):
                    problems.append(f"{row} with a read token of a {role}: {response.status_code}")
            elif problem := verdict(row, role, response):
                problems.append(f"{row} with a read token of a {role}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_api_ignores_session_cookies(app: Flask, identities: dict[str, Identity]) -> None:
    admin = identities["admin"]
    for row in (r for r in ROUTES if r.is_api and r.role != PUBLIC):
        cookie_only = Identity("admin-cookie", admin.cookie, admin.csrf, None)
        client = app.test_client()
        client.set_cookie("session", cookie_only.cookie or "")
        with app.test_request_context():
            from flask import url_for

            url = url_for(row.endpoint, **row.args)
        response = client.open(url, method=row.method, json={})
        assert response.status_code == 401, f"{row} let a cookie in"


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_read_only_refuses_every_destructive_route_even_to_admins(
    app: Flask, identities: dict[str, Identity], sandbox
) -> None:
    problems = []
    for row in (r for r in ROUTES if r.destructive):
        for who in ("operator", "admin"):
            response = call(app, row, identities[who], csrf=True)
            if response.status_code != 403 or "read-only" not in response.get_data(as_text=True):
                problems.append(f"{row} as {who}: {response.status_code} while read-only")
    assert not problems, "\n".join(problems)
    assert not any(key.startswith("DELETE") for key in sandbox.state.stats)


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_read_only_refuses_a_real_delete_form_post(app: Flask, client, auth: AuthActions) -> None:
    token = auth.login("admin")
    form = {"image_ids": "100001", "reason": "takedown", "csrf_token": token}
    response = client.post("/deletions", data=form)
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)


def delete_controls(html: str) -> int:
    """How many ways to delete the page offers (buttons, forms, dialogs)."""
    patterns = (r'action="/deletions', r'data-open-dialog="delete-dialog', r">\s*Delete\b")
    return sum(len(re.findall(pattern, html)) for pattern in patterns)


def test_operators_see_delete_buttons_on_images_viewers_do_not(client, auth: AuthActions) -> None:
    auth.login("viewer")
    assert delete_controls(client.get("/images").get_data(as_text=True)) == 0
    auth.logout()
    auth.login("operator")
    assert delete_controls(client.get("/images").get_data(as_text=True)) > 0


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_read_only_hides_every_delete_button_on_images(client, auth: AuthActions) -> None:
    auth.login("admin")
    html = client.get("/images").get_data(as_text=True)
    assert "Read-only" in html
    assert delete_controls(html) == 0
