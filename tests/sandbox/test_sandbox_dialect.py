"""The reference dialect: only what wesog-api.md documents, and a rate above which it says 429."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import API_KEY
from tests.sandbox.support import Api
from wesog_dash.sandbox import SandboxServer, SandboxSettings


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A started sandbox speaking the reference dialect."""
    settings = SandboxSettings(
        api_key=API_KEY, images=50, item_ms=5, start_ms=5, dialect="reference"
    )
    sandbox = SandboxServer(settings, port=0).start()
    yield sandbox
    sandbox.stop()


def test_a_comma_list_after_intersection_is_a_422_saying_why(api: Api) -> None:
    response = api.call("GET", "/imgs", params={"q": "id∩1,2"})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "q"]
    assert "Invalid value '1,2'" in problem["msg"]


def test_documented_or_composition_and_a_single_intersection_value_are_accepted(
    api: Api,
) -> None:
    first, second = api.ids()[:2]
    assert set(api.ids(f"id={first} || id={second}")) == {first, second}
    assert api.ids(f"id∩{first}") == [first]


def test_the_sandbox_dialect_still_takes_comma_lists(api: Api) -> None:
    first, second = api.ids()[:2]
    api.call("PATCH", "/_sandbox/settings", json={"dialect": "sandbox"})
    assert set(api.ids(f"id∩{first},{second}")) == {first, second}


def test_ops_list_is_the_bare_array_whatever_the_parameters(api: Api) -> None:
    for image_id in api.ids()[:3]:
        assert api.call("DELETE", f"/imgs/{image_id}").status_code == 202
    response = api.call("GET", "/ops", params={"page": 2, "limit": 1, "state": "finished"})
    assert response.status_code == 200
    assert "X-Total-Count" not in response.headers
    assert [op["op_id"] for op in response.json()] == [3, 2, 1]


def test_unknown_ids_behave_as_the_reference_says(api: Api) -> None:
    assert api.call("GET", "/imgs/no-such-image").json() == {"detail": "Not Found"}
    relaxed = api.call("DELETE", "/imgs/no-such-image").json()["op_id"]
    strict = api.call("DELETE", "/imgs/no-such-image", params={"strict": "true"}).json()["op_id"]
    assert api.finished(relaxed)["num_good"] == 1
    assert api.finished(strict)["errors"] == [{"id": "no-such-image", "msg": "image not found"}]


def test_the_undocumented_cancel_path_is_not_there(api: Api) -> None:
    op_id = api.call("DELETE", f"/imgs/{api.ids()[0]}").json()["op_id"]
    assert api.call("DELETE", f"/ops/{op_id}").status_code == 405


def test_calls_above_the_rate_are_answered_429_with_retry_after(api: Api) -> None:
    api.call("PATCH", "/_sandbox/settings", json={"max_calls_per_second": 3})
    answers = [api.call("GET", "/ops") for _ in range(20)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["Retry-After"] == "1"
    assert refused.json() == {"detail": "Too Many Requests"}


def test_bad_dialect_or_rate_knobs_are_422(api: Api) -> None:
    response = api.call(
        "PATCH", "/_sandbox/settings", json={"dialect": "fancy", "max_calls_per_second": -1}
    )
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "dialect"),
        ("body", "max_calls_per_second"),
    }
