"""The sandbox's one-shot faults and its restart: what the fault suite relies on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from wesog_dash.sandbox import SandboxServer

from .conftest import API_KEY

TIMEOUT = 5


@pytest.fixture
def api(server: SandboxServer) -> Iterator[requests.Session]:
    """A session with the sandbox's key; requests take paths relative to the server."""
    with requests.Session() as session:
        session.headers["API-Key"] = API_KEY
        yield session


def arm(server: SandboxServer, api: requests.Session, **fault: object) -> None:
    """Arm a fault through the control endpoint."""
    response = api.post(server.url + "/_sandbox/faults", json=fault, timeout=TIMEOUT)
    assert response.status_code == 201, response.text


def test_reset_before_cuts_the_connection_and_creates_no_operation(
    server: SandboxServer, api: requests.Session
) -> None:
    arm(server, api, route="DELETE /imgs/{image_id}", kind="reset_before")
    with pytest.raises(requests.ConnectionError):
        api.delete(server.url + "/imgs/100001", timeout=TIMEOUT)
    assert api.get(server.url + "/ops", timeout=TIMEOUT).json() == []
    assert api.get(server.url + "/imgs/100001", timeout=TIMEOUT).status_code == 200
    # Spent: the next request goes through.
    assert api.delete(server.url + "/imgs/100001", timeout=TIMEOUT).status_code == 202


def test_reset_after_creates_the_operation_then_cuts_the_connection(
    server: SandboxServer, api: requests.Session
) -> None:
    arm(server, api, route="DELETE /imgs/{image_id}", kind="reset_after")
    with pytest.raises(requests.ConnectionError):
        api.delete(server.url + "/imgs/100002", timeout=TIMEOUT)
    listed = api.get(server.url + "/ops", timeout=TIMEOUT).json()
    assert [op["num_total"] for op in listed] == [1]


def test_late_answer_and_malformed_body(server: SandboxServer, api: requests.Session) -> None:
    arm(server, api, route="DELETE /imgs/{image_id}", kind="late", delay_ms=600)
    with pytest.raises(requests.Timeout):
        api.delete(server.url + "/imgs/100003", timeout=0.2)
    arm(server, api, route="GET /ops/{op_id}", kind="body", body={"num_good": "x"}, times=2)
    assert api.get(server.url + "/_sandbox/faults", timeout=TIMEOUT).json() == {
        "GET /ops/{op_id}": 2
    }
    assert api.get(server.url + "/ops/1", timeout=TIMEOUT).json()["num_good"] == "x"
    arm(server, api, route="DELETE /imgs/{image_id}", kind="body", body={"op_id": 2**64})
    assert (
        api.delete(server.url + "/imgs/100004", timeout=TIMEOUT).text.find("18446744073709551616")
        > 0
    )
    assert api.delete(server.url + "/_sandbox/faults", timeout=TIMEOUT).status_code == 200
    assert api.get(server.url + "/ops/1", timeout=TIMEOUT).json()["num_good"] in (0, 1)
    for bad in ({"route": "x", "kind": "explode"}, {"route": "", "kind": "late"}, [1]):
        assert (
            api.post(server.url + "/_sandbox/faults", json=bad, timeout=TIMEOUT).status_code == 422
        )


def test_restart_forgets_operations_and_may_reuse_their_ids(
    server: SandboxServer, api: requests.Session
) -> None:
    first = api.delete(server.url + "/imgs/100005", timeout=TIMEOUT).json()
    time.sleep(0.01)
    answer = api.post(server.url + "/_sandbox/restart", json={"reuse_ids": True}, timeout=TIMEOUT)
    assert answer.json() == {"forgotten": 1}
    assert api.get(server.url + f"/ops/{first['op_id']}", timeout=TIMEOUT).status_code == 404
    again = api.delete(server.url + "/imgs/100006", timeout=TIMEOUT).json()
    assert again["op_id"] == first["op_id"] and again["created_at"] != first["created_at"]
