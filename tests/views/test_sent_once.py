"""htmx does the browser's part: a form that changes something is sent once (htmx disables its
button while it is on its way), and every answer says that it varies with HX-Request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORM = re.compile(r"<form\b[^>]*>", re.S)
ACTION = re.compile(r"url_for\('([\w.]+)'")
# The endpoints given to the shared revoke macro, directly or through the token table's.
REVOKE_CALL = re.compile(r"""(?:revoke_token\(token|token_table\(api_tokens), ["']([\w.]+)["']""")
# What a double press would do twice: delete, undo, pause, resume, cancel, retry, restore,
# approve or reject, run a policy, revoke, disable, end sessions, send a test alert.
DESTRUCTIVE = {
    "deletions.deletion_create",
    "safety.deletion_undo",
    "safety.deletion_retry",
    "safety.snapshot_restore",
    "approvals.deletion_approve",
    "approvals.deletion_reject",
    "policies.policy_dry_run",
    "policies.policy_approve",
    "policies.policy_pause",
    "policies.policy_resume",
    "tokens.token_revoke",
    "users.token_revoke",
    "users.user_set_role",
    "users.user_end_sessions",
    "users.user_disable",
    "ops.op_untrack",
    "overview.alert_test",
}


def forms_in_templates() -> dict[str, list[str]]:
    """The opening tag of every form, by the endpoint it posts to."""
    found: dict[str, list[str]] = {}
    for template in TEMPLATES.rglob("*.html"):
        for tag in FORM.findall(template.read_text()):
            if 'method="post"' not in tag:
                continue
            action = ACTION.search(tag)
            # The deletion page's actions (pause, resume, cancel, retry, restore) share a macro.
            name = "deletion actions" if "url_for(endpoint," in tag else "other"
            name = "token revoke" if "url_for(revoke_endpoint," in tag else name
            found.setdefault(action.group(1) if action else name, []).append(tag)
    for template in TEMPLATES.rglob("*.html"):
        for endpoint in REVOKE_CALL.findall(template.read_text()):
            found[endpoint] = found["token revoke"]  # KeyError: the macro lost its form
    return found


def test_every_destructive_form_is_sent_by_htmx_once() -> None:
    forms = forms_in_templates()
    assert set(forms) >= DESTRUCTIVE, DESTRUCTIVE - set(forms)
    checked = {endpoint: forms[endpoint] for endpoint in DESTRUCTIVE | {"deletion actions"}}
    for endpoint, tags in checked.items():
        for tag in tags:
            assert "hx-disabled-elt=" in tag, f"{endpoint}: {tag}"
            assert "hx-post=" in tag or 'hx-boost="true"' in tag, f"{endpoint}: not htmx's"


@pytest.mark.parametrize("path", ["/", "/ops", "/deletions", "/audit", "/no/such/page"])
def test_every_page_varies_with_hx_request(
    client: FlaskClient, auth: AuthActions, path: str
) -> None:
    auth.login("viewer")
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(path, headers=headers)
        assert "HX-Request" in response.headers.get("Vary", ""), (path, headers)
