"""Typed input the views read: one parser for whole numbers and days (ASCII only), walked on
every route; requests that are malformed before any view (no Host, not UTF-8); every /api/v1
answer a problem document."""

from __future__ import annotations

import ast
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

from tests.conftest import AuthActions, request_deletion
from tests.fuzz.inputs import FIELD_NAMES, Call, fuzzable_rules, send
from wesog_dash import accounts
from wesog_dash.accounts import tokens
from wesog_dash.inputs import iso_day, whole_number

PACKAGE = Path(__file__).resolve().parents[2] / "wesog_dash"
PROBLEM = "application/problem+json"
# Text that str.isdigit, int() or pydantic's lax mode take for a number although nobody
# typed one: a superscript, Arabic-Indic and full-width digits, spaces, signs, underscores.
ODD_NUMERALS = ("²", "٣", "１２", " 7", "7 ", "+7", "1_000", "5.0", "0x1f", "-0")
# Names our views read as numbers, beyond the fuzzer's field list.
DIGIT_TESTS = ("isdigit", "isdecimal", "isnumeric")
NUMBER_FIELDS = ("n", "since", "v", "stop_min", "stop_percent", "selection_id", "id", "t")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """CSRF off: the odd values must reach the views."""
    return {"WTF_CSRF_ENABLED": False, "WESOG_SYNC_SEND_TIMEOUT": 1.0}


@pytest.fixture
def token(app: Flask, auth: AuthActions) -> str:
    """An operate token of the admin the client is logged in as."""
    auth.login("admin")
    with app.app_context():
        return tokens.issue_token(accounts.find_user("admin-user"), actor="cli:test")


def bearer(token: str) -> dict[str, str]:
    """The API's authentication header."""
    return {"Authorization": f"Bearer {token}"}


def test_whole_numbers_are_ascii_digits_only() -> None:
    assert [whole_number(text) for text in ODD_NUMERALS] == [None] * len(ODD_NUMERALS)
    assert whole_number("0") == 0 and whole_number("0042") == 42
    assert whole_number("7", maximum=6) is None and whole_number("9" * 20) is None
    assert whole_number("-3") is None and whole_number("-3", signed=True, minimum=-5) == -3
    assert whole_number(None) is None and whole_number("") is None


def test_days_are_written_yyyy_mm_dd_only() -> None:
    assert iso_day("2026-12-07") == date(2026, 12, 7)
    for text in ("20261207", "2026-W49-1", "0", "2026-02-30", " 2026-12-07", "２０２６-12-07"):
        assert iso_day(text) is None, text


def test_no_module_reads_digits_but_the_parser() -> None:
    """isdigit/isdecimal/isnumeric take '²' or '٣': every reading goes through `inputs`."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "sandbox":  # the simulated API: not the console's input
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in DIGIT_TESTS:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}()")
    assert found == []


def test_every_route_survives_odd_numerals_in_every_field(
    app: Flask, client: FlaskClient, token: str, sandbox: Any
) -> None:
    failures = []
    names = (*FIELD_NAMES, *NUMBER_FIELDS)
    for rule, method in fuzzable_rules(app):
        values = {name: "1" for name in (rule._converters or {})}
        path = app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
        for value in ODD_NUMERALS[:3]:
            everything = {name: value for name in names}
            call = Call(method, rule.rule, path, everything, everything, everything)
            status = send(client, call, token).status_code
            if status >= 500:
                failures.append(f"{method} {path} with every field = {value!r}: {status}")
    assert failures == []


@pytest.mark.parametrize("name", ["op_id", "before", "after"])
def test_the_audit_page_and_exports_explain_or_ignore_a_superscript(
    client: FlaskClient, auth: AuthActions, name: str
) -> None:
    auth.login("viewer")
    for url in ("/audit", "/audit/export.csv", "/audit/export.jsonl"):
        answer = client.get(url, query_string={name: "²"})
        assert answer.status_code == 200, url
        answer.get_data()
    if name == "op_id":
        page = client.get("/audit", query_string={"op_id": "²"}).get_data(as_text=True)
        assert "An operation id is a whole number." in page


def test_the_card_watcher_ignores_a_slot_that_is_not_ascii_digits(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    since = str(int(time.time() * 1000) - 60_000)
    request_deletion(app, ["100001"])
    form = MultiDict([("since", since), ("n", "²"), ("id", "100001"), ("t", "none")])
    assert client.post("/images/cards", data=form).status_code == 204
    form.setlist("n", ["0"])
    assert client.post("/images/cards", data=form).status_code == 200


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/ops?limit=٣", "limit"),
        ("/api/v1/ops?before=%2B7", "before"),
        ("/api/v1/deletions?before=1_000", "before"),
        ("/api/v1/deletions/1/items?after=%207", "after"),
        ("/api/v1/audit/events?op_id=5.0", "op_id"),
        ("/api/v1/ops?created_from=0", "created_from"),
        ("/api/v1/ops?created_to=20261207", "created_to"),
        ("/api/v1/audit/events?from=0", "from"),
        ("/api/v1/audit/events?to=2026-W49-1", "to"),
    ],
)
def test_api_numbers_and_days_take_only_their_written_form(
    client: FlaskClient, token: str, url: str, field: str
) -> None:
    answer = client.get(url, headers=bearer(token))
    assert answer.status_code == 400 and answer.mimetype == PROBLEM
    assert answer.get_json()["errors"][0]["loc"] == [field]


def test_api_days_written_yyyy_mm_dd_are_taken(client: FlaskClient, token: str) -> None:
    answer = client.get("/api/v1/audit/events?from=2026-01-01&to=2026-12-31", headers=bearer(token))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "given"),
    [
        ({"reason": "x"}, "neither was given"),
        ({"reason": "x", "image_ids": ["100001"], "query": "t~a"}, "both were given"),
    ],
)
def test_a_deletion_names_exactly_one_of_ids_and_query(
    client: FlaskClient, token: str, body: dict[str, Any], given: str
) -> None:
    answer = client.post("/api/v1/deletions", json=body, headers=bearer(token))
    assert answer.status_code == 400 and answer.mimetype == PROBLEM
    assert answer.get_json()["detail"] == f"Give exactly one of `image_ids` and `query`; {given}."


def test_the_schema_says_exactly_one_of_ids_and_query(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    new = document["components"]["schemas"]["NewDeletion"]
    assert new["oneOf"] == [{"required": ["image_ids"]}, {"required": ["query"]}]
    assert "exactly one of `image_ids` and `query`" in new["description"]
    body = document["paths"]["/api/v1/deletions"]["post"]["requestBody"]["content"]
    form = body["multipart/form-data"]["schema"]
    assert form["oneOf"] == [{"required": ["ids"]}, {"required": ["query"]}]


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing", "/api/v1/nothing?q=a%00b", "/api/v1/ops?q=%00", "/api/v1/x%FF"]
)
def test_every_api_answer_is_a_problem_document(client: FlaskClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code in (400, 401, 404) and answer.mimetype == PROBLEM
    assert answer.get_json()["type"].startswith("https://wesog-dash/problems/")


def test_a_query_string_that_is_not_utf8_is_refused(client: FlaskClient, auth: AuthActions):
    auth.login("viewer")
    assert client.get("/audit?actor=%FF%FE").status_code == 400
    assert client.get("/audit?actor=%C3%A9").status_code == 200


def test_a_form_that_is_not_utf8_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator")
    body = b"ids_text=%FF%FE&reason=spam"
    form = "application/x-www-form-urlencoded"
    answer = client.post("/deletions", data=body, content_type=form)
    assert answer.status_code == 400
    assert "not UTF-8" in answer.get_data(as_text=True)


@pytest.fixture
def live_server(app: Flask) -> Iterator[tuple[str, int]]:
    """The app served by werkzeug on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="inputs-live", daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    thread.join(5)


def raw_status(address: tuple[str, int], request: bytes) -> bytes:
    """The status line of the answer to a hand-written request."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)
        return conn.makefile("rb").readline().strip()


def test_an_http11_request_without_host_is_refused(live_server: tuple[str, int]) -> None:
    assert raw_status(live_server, b"GET /login HTTP/1.1\r\nConnection: close\r\n\r\n").endswith(
        b" 400 BAD REQUEST"
    )
    with_host = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert raw_status(live_server, with_host).endswith(b" 200 OK")
    assert raw_status(live_server, b"GET /login HTTP/1.0\r\n\r\n").endswith(b" 200 OK")
