"""The OpenAPI document: valid OpenAPI 3.1, served publicly, and true to the live API.

Schemathesis generates requests for every operation of the document (positive and negative
data, bounded examples) and sends them over real HTTP to a werkzeug server on loopback with an
operator's token; no answer may be a 5xx or stray from the documented statuses, media types
and schemas.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from tests.conftest import FAST_POLLING, request_deletion
from tests.views.test_api_v1 import bearer, token_for
from tests.views.test_deletions import settle
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer
from wesog_dash.views.api.problems import PROBLEM_TYPES

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def document(client) -> dict[str, Any]:
    """The served OpenAPI document (no token needed)."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_every_api_route_is_in_the_document(app: Flask, document: dict[str, Any]) -> None:
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:>]*:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert served == documented


def test_every_problem_type_is_documented(document: dict[str, Any]) -> None:
    for slug in PROBLEM_TYPES:
        assert f"https://wesog-dash/problems/{slug}" in document["info"]["description"]


def test_the_document_describes_its_own_answer_as_an_object(document: dict[str, Any]) -> None:
    # Without a schema a generated client reads this answer as None.
    answer = document["paths"]["/api/v1/openapi.json"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert {"openapi", "info", "paths", "components"} <= set(schema["required"])


def test_each_operation_names_the_scope_its_token_needs(document: dict[str, Any]) -> None:
    operations = {
        (method, path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }
    assert operations["get", "/api/v1/me"]["security"] == [{"token": ["read"]}]
    assert operations["post", "/api/v1/deletions"]["security"] == [{"token": ["operate"]}]
    assert operations["get", "/api/v1/openapi.json"]["security"] == []
    assert all(
        op["security"] in ([], [{"token": ["read"]}], [{"token": ["operate"]}])
        for op in operations.values()
    )


def too_big(schema: dict[str, Any]) -> str | None:
    """A query value just past a documented limit (None when the schema sets none)."""
    if "maximum" in schema:
        return str(schema["maximum"] + 1)
    if "maxLength" in schema:
        return "x" * (schema["maxLength"] + 1)
    return None


def test_every_documented_query_limit_is_enforced(
    app: Flask, client, document: dict[str, Any]
) -> None:
    # One declaration: what the document says a parameter takes is what the route reads.
    headers = bearer(token_for(app, "limits", "operator"))
    checked = 0
    for path, item in document["paths"].items():
        url = re.sub(r"\{\w+\}", "1", path)
        for method, op in item.items():
            for param in op.get("parameters", []) if method != "parameters" else []:
                value = too_big(param["schema"])
                if param["in"] != "query" or value is None:
                    continue
                answer = client.open(
                    url, method=method.upper(), query_string={param["name"]: value}, headers=headers
                )
                assert answer.status_code == 400, (method, path, param["name"])
                assert answer.json["type"].endswith("/invalid-request")
                assert answer.json["errors"][0]["loc"] == [param["name"]]
                checked += 1
    assert checked >= 10


def test_the_reference_page_shows_every_operation_from_the_server(
    client, document: dict[str, Any]
) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = unescape(response.get_data(as_text=True))
    assert "<script" not in html and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert f'id="op-{op["operationId"]}"' in html, (method, path)
            assert f"{method.upper()} {path}" in html and op["summary"] in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    for kind in document["x-problem-types"]:
        assert kind["type"] in html


def test_the_reference_page_shows_parameters_bodies_answers_and_scopes(client) -> None:
    html = unescape(client.get("/api/v1/docs").get_data(as_text=True))
    ops = html[html.index('id="op-operation_list"') :]
    ops = ops[: ops.index("</section>")]
    assert "<code>limit</code>" in ops and "at most 200" not in ops and "≤ 200" in ops
    assert "<code>read</code>" in ops and "#schema-OperationPage" in ops
    create = html[html.index('id="op-create_deletion"') :]
    create = create[: create.index("</section>")]
    for media in ("application/json", "text/plain", "multipart/form-data"):
        assert f"<code>{media}</code>" in create
    assert "<code>operate</code>" in create and "<code>Location</code>" in create
    assert "<code>ids</code>" in create  # the multipart form's fields, inline


def test_the_document_links_to_the_reference_page(client) -> None:
    link = client.get("/api/v1/openapi.json").headers["Link"]
    assert link == '</api/v1/docs>; rel="help"'
    assert client.get("/static/api.js").status_code == 404


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by werkzeug on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-live", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def seed_deletions(app: Flask, poller: Poller, sandbox: SandboxServer) -> dict[str, list[int]]:
    """Deletions for each safety action to act on: `deletion_id` of its path, by action."""
    deleted = request_deletion(app, ["100005"])
    settle(app, poller, deleted)
    sandbox.settings.fail_rate = 1.0
    failed = request_deletion(app, ["100006"])
    settle(app, poller, failed)
    sandbox.settings.fail_rate = 0.0
    with app.app_context():
        assert deletions.failed_ids(deletions.get_deletion(failed)) == ["100006"]
    # In their undo window: never sent while the test runs.
    undo = request_deletion(app, ["100001"], undo_seconds=600)
    pause = request_deletion(app, ["100002"], undo_seconds=600)
    cancel = request_deletion(app, ["100003", "100004"], kind="list", undo_seconds=600)
    every = [undo, pause, cancel, deleted, failed]
    return {
        "undo": [undo],
        "pause": [pause],
        "resume": [pause],
        "cancel": [cancel],
        "restore": [deleted],
        "retry": [failed],
        "": every,
    }


def aim_at(document: dict[str, Any], seeded: dict[str, list[int]]) -> None:
    """Generate only the seeded `deletion_id`s (negative cases: anything else, a 404)."""
    for path, item in document["paths"].items():
        found = re.fullmatch(r"/api/v1/deletions/\{deletion_id\}(?:/(\w+))?(?:\.csv)?", path)
        if found:
            action = found.group(1) if found.group(1) in seeded else ""
            for param in item["parameters"]:
                param["schema"] = {"type": "integer", "enum": seeded[action]}


# Every safety action must reach its service at least once with a success answer (resume
# may find its deletion not paused when it runs before pause: then its 409 must show).
SAFETY = {
    "undo": "200",
    "pause": "200",
    "resume": "(200|409)",
    "cancel": "200",
    "retry": "202",
    "restore": "202",
    "report": "200",
}


@pytest.mark.parametrize("app_overrides", [{"PROPAGATE_EXCEPTIONS": False, **FAST_POLLING}])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    app: Flask, live_server: str, document: dict[str, Any], poller: Poller, sandbox: SandboxServer
) -> None:
    headers = bearer(token_for(app, "fuzz", "operator"))
    aim_at(document, seed_deletions(app, poller, sandbox))
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    seen: list[str] = []
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            run_operation(operation, mode, live_server, headers, seen)
    for action, status in SAFETY.items():
        wanted = re.compile(rf"(POST|GET) /api/v1/deletions/{{deletion_id}}/{action}\S* {status}")
        assert any(wanted.fullmatch(answer) for answer in seen), (
            action,
            "\n".join(sorted(set(seen))),
        )


def run_operation(
    operation: Any, mode: Any, base_url: str, headers: dict[str, str], seen: list[str]
) -> None:
    """Send bounded generated cases for one operation and check every answer."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION // 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
        seen.append(f"{operation.label} {response.status_code}")

    try:
        check()
    except Unsatisfiable:
        # Negative mode has nothing to break in an operation without parameters or body.
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
