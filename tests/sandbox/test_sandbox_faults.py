"""Fault knobs of the sandbox: dropped connections, late answers, malformed answers."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.sandbox.support import Api
from wesog_dash.sandbox import SandboxServer


def _delete(api: Api, image_id: str, **params: str) -> requests.Response:
    return api.call("DELETE", f"/imgs/{image_id}", params=params)


# --- dropped connections --------------------------------------------------------------------


def test_reset_before_create_drops_the_connection_and_creates_nothing(api: Api) -> None:
    assert api.knobs(reset_before_create=2)["reset_before_create"] == 2
    for method, path, body in (("DELETE", "/imgs/100001", None), ("POST", "/imgs", [{}])):
        with pytest.raises(requests.exceptions.ConnectionError):
            api.call(method, path, json=body)
    assert api.call("GET", "/_sandbox/settings").json()["reset_before_create"] == 0
    assert api.ops() == []
    assert api.call("GET", "/imgs/100001").status_code == 200
    assert _delete(api, "100001").status_code == 202  # used up: the next write is normal


def test_reset_after_create_drops_the_answer_but_the_op_runs(api: Api) -> None:
    api.knobs(reset_after_create=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.call("DELETE", "/imgs", params={"wait": "true"}, json=["100002", "100003"])
    (op,) = api.ops()
    assert op["num_total"] == 2 and op["method"] == "del"
    assert api.finished(op["op_id"])["num_good"] == 2
    assert api.call("GET", "/imgs/100002").status_code == 404
    assert _delete(api, "100004").status_code == 202


def test_reads_are_never_dropped(api: Api) -> None:
    api.knobs(reset_before_create=1, reset_after_create=1)
    assert api.call("GET", "/imgs").status_code == 200
    assert api.call("GET", "/ops").status_code == 200
    knobs = api.call("GET", "/_sandbox/settings").json()
    assert (knobs["reset_before_create"], knobs["reset_after_create"]) == (1, 1)


def test_one_shot_counters_are_exact_under_concurrent_writes(api: Api) -> None:
    api.knobs(reset_before_create=5)

    def write(n: int) -> str:
        try:
            return str(_delete(api, str(100010 + n)).status_code)
        except requests.exceptions.ConnectionError:
            return "dropped"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(write, range(20)))
    assert outcomes.count("dropped") == 5 and outcomes.count("202") == 15
    assert len(api.ops()) == 15


def test_late_answer_comes_after_the_op_exists(server: SandboxServer, api: Api) -> None:
    api.knobs(late_answer=1, late_answer_ms=1500)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.call("DELETE", "/imgs/100005", timeout=(2, 0.2))
    (op,) = api.ops()  # the op exists while its answer is still pending
    assert op["op_id"] == 1
    assert api.finished(1)["num_good"] == 1
    assert _delete(api, "100006").status_code == 202  # only the first write was late
    api.knobs(late_answer=1, late_answer_ms=200)
    late = _delete(api, "100007")
    assert late.status_code == 202 and late.elapsed.total_seconds() >= 0.2
    assert late.json()["is_started"] is False  # the answer describes the op as created


# --- malformed answers ----------------------------------------------------------------------


def _spoil(api: Api, *rules: dict[str, Any]) -> None:
    api.knobs(malformed=list(rules))


def test_malformed_search_count_as_string_and_as_overflowing_number(api: Api) -> None:
    _spoil(api, {"endpoint": "search", "field": "count", "value": "x"})
    assert api.search(limit=1)["count"] == "x"
    _spoil(api, {"endpoint": "search", "field": "count", "raw": "1e400"})
    response = api.call("GET", "/imgs", params={"limit": 1})
    assert '"count":1e400' in response.text
    assert math.isinf(json.loads(response.text)["count"])
    assert api.search(limit=1)["count"] == 500  # one answer each


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"value": 2**64}, 2**64),
        ({"raw": "1e30"}, 1e30),
        ({"value": "17"}, "17"),
        ({"value": None}, None),
    ],
)
def test_malformed_write_op_id(api: Api, rule: dict[str, Any], expected: Any) -> None:
    _spoil(api, {"endpoint": "write", "field": "op_id", **rule})
    body = _delete(api, "100001").json()
    assert body["op_id"] == expected and type(body["op_id"]) is type(expected)
    assert api.ops()[0]["op_id"] == 1  # the operation itself is fine


def test_malformed_fields_in_op_and_list_answers(api: Api) -> None:
    op_id = _delete(api, "100001", strict="true").json()["op_id"]
    _delete(api, "ghost", strict="true", wait="true")
    _spoil(
        api,
        {"endpoint": "op", "field": "num_good", "value": "many"},
        {"endpoint": "ops_list", "field": "*.errors.*.id", "value": [1]},
        {"endpoint": "op", "field": "all_good", "drop": True},
    )
    assert api.op(op_id)["num_good"] == "many"
    assert "all_good" not in api.op(op_id)
    assert [op["errors"] for op in api.ops()] == [[{"id": [1], "msg": "image not found"}], []]
    assert api.op(op_id)["num_good"] in (0, 1)


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("truncated", lambda r: r.headers["Content-Length"] == str(len(r.content))),
        ("not_json", lambda r: r.headers["Content-Type"] == "application/json"),
        ("html", lambda r: r.headers["Content-Type"].startswith("text/html")),
        ("empty", lambda r: r.content == b""),
    ],
)
def test_malformed_bodies_are_not_json(api: Api, body: str, check: Any) -> None:
    op_id = _delete(api, "100001").json()["op_id"]
    _spoil(api, {"endpoint": "op", "body": body})
    response = api.call("GET", f"/ops/{op_id}")
    assert response.status_code == 200 and check(response)
    with pytest.raises(ValueError):
        response.json()
    assert api.op(op_id)


def test_malformed_cut_body_breaks_off_mid_answer(api: Api) -> None:
    _spoil(api, {"endpoint": "search", "body": "cut"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.call("GET", "/imgs", params={"limit": 5})


def test_malformed_rule_counts_status_and_endpoint_scope(api: Api) -> None:
    _spoil(
        api,
        {"endpoint": "write", "body": "html", "status": 502, "count": 2},
        {"endpoint": "image", "field": "title", "value": 42, "count": None},
    )
    assert [_delete(api, "100001").status_code for _ in range(3)] == [502, 502, 202]
    assert api.call("GET", "/imgs/100002").json()["title"] == 42
    assert api.call("GET", "/imgs/100002").json()["title"] == 42  # no limit
    assert isinstance(api.search(limit=1)["count"], int)  # other endpoints untouched
    assert api.call("GET", "/_sandbox/settings").json()["malformed"] == [
        {"endpoint": "image", "field": "title", "value": 42, "count": None}
    ]


def test_a_dropped_write_spends_no_malformed_rule(api: Api) -> None:
    _spoil(api, {"endpoint": "write", "field": "op_id", "value": "x"})
    api.knobs(reset_after_create=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        _delete(api, "100001")
    assert _delete(api, "100002").json()["op_id"] == "x"


def test_failed_answers_are_not_spoiled(api: Api) -> None:
    _spoil(api, {"endpoint": "op", "field": "num_good", "value": "many"})
    assert api.call("GET", "/ops/99").json() == {"detail": "Operation not found"}
    op_id = _delete(api, "100001").json()["op_id"]
    assert api.op(op_id)["num_good"] == "many"


@pytest.mark.parametrize(
    "rules",
    [
        {"endpoint": "search"},
        [{"endpoint": "nowhere", "body": "html"}],
        [{"endpoint": "op", "body": "sideways"}],
        [{"endpoint": "op", "field": "x"}],
        [{"endpoint": "op", "field": "x", "value": 1, "drop": True}],
        [{"endpoint": "op", "field": "x", "raw": 5}],
        [{"endpoint": "op", "field": "x", "value": 1, "body": "html"}],
        [{"endpoint": "op", "body": "html", "count": 0}],
        [{"endpoint": "op", "body": "html", "status": 99}],
        [{"endpoint": "op", "body": "html", "extra": 1}],
    ],
)
def test_bad_malformed_rules_are_422(api: Api, rules: Any) -> None:
    response = api.call("PATCH", "/_sandbox/settings", json={"malformed": rules})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "malformed"]


@pytest.mark.parametrize(
    "body",
    [
        {"hold": "yes"},
        {"cancel_supported": 1},
        {"ops_404": [1, "2"]},
        {"ops_404": "some"},
        {"reset_before_create": -1},
        {"reset_after_create": 1.5},
        {"late_answer": True},
        {"late_answer_ms": -5},
    ],
)
def test_new_knobs_are_validated(server: SandboxServer, api: Api, body: dict[str, Any]) -> None:
    assert api.call("PATCH", "/_sandbox/settings", json=body).status_code == 422
    assert server.settings.hold is False and server.settings.reset_before_create == 0


def test_stats_count_every_call_including_dropped_and_spoiled_ones(
    server: SandboxServer, api: Api
) -> None:
    server.state.reset_stats()
    api.knobs(reset_before_create=1, reset_after_create=1)
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            _delete(api, "100001")
    _spoil(api, {"endpoint": "ops_list", "body": "html"})
    api.call("GET", "/ops", params={"state": "unfinished"})
    api.call("DELETE", "/ops/1")
    api.call("POST", "/_sandbox/ops/bulk", json={"count": 3})
    stats = api.call("GET", "/_sandbox/stats").json()
    assert stats == {"DELETE /imgs/{image_id}": 2, "GET /ops": 1, "DELETE /ops/{op_id}": 1}
