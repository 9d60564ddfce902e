"""Property: no input, however strange, makes any route answer 5xx (or raise).

Every route the app serves (read from its URL map) gets path values, query strings, forms and
JSON bodies from `inputs.py`, as an admin (who may reach every view), with CSRF off so that the
inputs reach the views. Bounded by a fixed seed and example count; `bench/fuzz.py` runs long.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings

from tests.conftest import AuthActions
from tests.fuzz.inputs import FIELD_NAMES, Call, calls, fuzzable_rules, send
from wesog_dash import accounts
from wesog_dash.accounts import tokens

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

MAX_EXAMPLES = 400


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """CSRF off (the inputs must reach the views); exceptions still propagate (TESTING)."""
    return {"WTF_CSRF_ENABLED": False, "WESOG_SYNC_SEND_TIMEOUT": 1.0}


def test_no_route_answers_5xx_to_any_input(
    app: Flask, client: Any, auth: AuthActions, sandbox: Any
) -> None:
    auth.login("admin")
    with app.app_context():
        token = tokens.issue_token(accounts.find_user("admin-user"), actor="cli:test")
    rules = fuzzable_rules(app)
    assert len(rules) > 30  # the whole app, not a hand-picked list
    seen: dict[int, int] = {}

    @seed(20261128)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(calls(app, rules))
    def no_server_error(call: Any) -> None:
        response = send(client, call, token)
        response.get_data()  # streamed bodies run to the end
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, f"{call.method} {call.path}: {response.status_code}"

    no_server_error()
    assert sum(seen.values()) >= MAX_EXAMPLES // 2
    assert any(200 <= status < 300 for status in seen), seen  # inputs reached the views


KILLER_VALUES = (
    str(10**25),
    str(2**63),
    "-1",
    "9999-12-31",
    "0001-01-01",
    "\r\n//evil.example",
    "((((",
    "x" * 5000,
    "💥",
    "",
)


def test_every_field_of_every_route_survives_the_killer_values(
    app: Flask, client: Any, auth: AuthActions, sandbox: Any
) -> None:
    """A deterministic sweep: every route, every field we read set at once to each value."""
    auth.login("admin")
    with app.app_context():
        token = tokens.issue_token(accounts.find_user("admin-user"), actor="cli:test")
    failures = []
    for rule, method in fuzzable_rules(app):
        for value in KILLER_VALUES:
            path_values = {
                name: "9" * 25 if "Integer" in type(conv).__mro__[1].__name__ else value or "x"
                for name, conv in (rule._converters or {}).items()
            }
            path = app.url_map.bind("localhost").build(rule.endpoint, path_values, method=method)
            everything = {name: value for name in FIELD_NAMES}
            call = Call(method, rule.rule, path, everything, everything, everything)
            status = send(client, call, token).status_code
            if status >= 500:
                failures.append(f"{method} {path} with every field = {value[:30]!r}: {status}")
    assert not failures, "\n".join(failures)
