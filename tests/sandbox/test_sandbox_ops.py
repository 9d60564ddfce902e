"""Operations in the sandbox: cancel, hold, the filtered `GET /ops`, bulk ops, restart, forget."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from tests.sandbox.support import Api, poll
from wesog_dash.sandbox import SandboxServer


def _bulk(api: Api, **body: Any) -> dict[str, Any]:
    response = api.call("POST", "/_sandbox/ops/bulk", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(ops: list[dict[str, Any]]) -> list[int]:
    return [op["op_id"] for op in ops]


def _queued_for(api: Api, op_id: int, ms: int) -> dict[str, Any]:
    """Poll until the op has waited `ms` in the queue; it must still be unstarted by then."""
    op = poll(lambda: (op := api.op(op_id))["idle_ms"] >= ms and op)
    assert op["is_started"] is False
    return op


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_switched_off_answers_405_and_leaves_the_op(server: SandboxServer, api: Api) -> None:
    api.knobs(hold=True, cancel_supported=False)
    op_id = api.call("DELETE", "/imgs/100001").json()["op_id"]
    server.state.reset_stats()
    refused = api.call("DELETE", f"/ops/{op_id}")
    assert refused.status_code == 405
    assert refused.json() == {"detail": "Method Not Allowed"}
    assert refused.headers["Allow"] == "GET"
    assert api.call("DELETE", "/ops/abc").status_code == 405  # no route: no path validation
    assert server.state.stats["DELETE /ops/{op_id}"] == 2
    assert api.op(op_id)["is_finished"] is False
    api.knobs(cancel_supported=True)
    cancelled = api.call("DELETE", f"/ops/{op_id}")
    assert cancelled.status_code == 200 and cancelled.json()["op_id"] == op_id
    assert cancelled.json()["all_good"] is False


def test_cancel_of_a_finished_op_is_409(api: Api) -> None:
    op = api.call("DELETE", "/imgs/100002", params={"wait": "true"}).json()
    response = api.call("DELETE", f"/ops/{op['op_id']}")
    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert api.op(op["op_id"])["errors"] == []


# --- hold -----------------------------------------------------------------------------------


def test_hold_keeps_ops_queued_until_released(api: Api) -> None:
    assert api.knobs(hold=True)["hold"] is True
    ids = [api.call("DELETE", f"/imgs/{i}").json()["op_id"] for i in (100003, 100004, 100005)]
    _queued_for(api, ids[0], ms=300)  # 15 times the start delay plus one element
    assert _ids(api.ops(state="queued")) == ids[::-1]
    assert api.call("GET", "/imgs/100003").status_code == 200
    api.knobs(hold=False)
    assert all(api.finished(op_id)["num_good"] == 1 for op_id in ids)
    assert api.call("GET", "/imgs/100003").status_code == 404


def test_hold_lets_the_running_op_finish(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 100
    running = api.call("DELETE", "/imgs", json=["100006", "100007", "100008"]).json()["op_id"]
    poll(lambda: api.op(running)["is_started"])
    api.knobs(hold=True)
    queued = api.call("DELETE", "/imgs/100009").json()["op_id"]
    assert api.finished(running)["num_good"] == 3
    _queued_for(api, queued, ms=api.op(running)["exec_ms"] + 200)
    server.settings.hold = False  # set directly, without the PATCH that wakes the worker
    api.finished(queued)


# --- GET /ops: filters and paging -----------------------------------------------------------


def test_list_filters_by_state_and_method_with_total_count(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 60_000  # op 1 stays running
    running = api.call("DELETE", "/imgs", json=["100010", "100011"]).json()["op_id"]
    poll(lambda: api.op(running)["is_started"])
    api.knobs(hold=True)
    finished_del = _bulk(api, count=5, method="del")
    _bulk(api, count=3, method="add", state="finished", items=4)
    queued = _bulk(api, count=4, method="upd", state="queued")
    assert (finished_del["first_op_id"], queued["last_op_id"]) == (2, 13)
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"state": "running"}, [1]),
        ({"state": "queued"}, [13, 12, 11, 10]),
        ({"state": "unfinished"}, [13, 12, 11, 10, 1]),
        ({"state": "finished"}, [9, 8, 7, 6, 5, 4, 3, 2]),
        ({"state": "finished", "method": "add"}, [9, 8, 7]),
        ({"method": "del"}, [6, 5, 4, 3, 2, 1]),
        ({"method": "multiple"}, []),
        ({"state": "unfinished", "method": "upd", "since_op_id": 11}, [13, 12]),
        ({"state": "finished", "before_op_id": 4}, [3, 2]),
    ]
    for params, expected in cases:
        response = api.call("GET", "/ops", params=params)
        assert _ids(response.json()) == expected, params
        assert response.headers["X-Total-Count"] == str(len(expected)), params
    add = api.ops(method="add", limit=1)[0]
    assert (add["num_total"], add["num_good"], add["is_finished"]) == (4, 4, True)


def test_list_pages_newest_first_by_offset_and_by_keyset(api: Api) -> None:
    _bulk(api, count=250)
    bare = api.call("GET", "/ops")
    assert _ids(bare.json()) == list(range(250, 0, -1))  # no parameter: every op (§7 #16)
    assert bare.headers["X-Total-Count"] == "250"
    assert _ids(api.ops(page=1)) == list(range(250, 150, -1))  # limit 100 once paged
    assert _ids(api.ops(page=3, limit=100)) == list(range(50, 0, -1))
    assert api.ops(page=4, limit=100) == []
    assert _ids(api.ops(since_op_id=247)) == [250, 249, 248]
    keyset, before = [], None
    while page := api.ops(limit=64, **({"before_op_id": before} if before else {})):
        keyset += _ids(page)
        before = page[-1]["op_id"]
    assert keyset == list(range(250, 0, -1))


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"page": 0},
        {"state": "done"},
        {"method": "put"},
        {"since_op_id": -1},
        {"before_op_id": "x"},
    ],
)
def test_bad_list_parameters_are_422(api: Api, params: dict[str, Any]) -> None:
    response = api.call("GET", "/ops", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


@pytest.mark.parametrize(
    "body",
    [{}, {"count": 0}, {"count": 1, "method": "put"}, {"count": 1, "state": "running"}, []],
)
def test_bad_bulk_bodies_are_422(api: Api, body: Any) -> None:
    assert api.call("POST", "/_sandbox/ops/bulk", json=body).status_code == 422
    assert api.ops() == []


def test_bulk_queued_ops_run_once_released(api: Api) -> None:
    api.knobs(hold=True, item_ms=0, start_ms=0)
    created = _bulk(api, count=50, method="add", state="queued", items=2)
    assert created == {"count": 50, "first_op_id": 1, "last_op_id": 50}
    assert len(api.ops(state="queued", limit=1000)) == 50
    api.knobs(hold=False)
    poll(lambda: not api.ops(state="unfinished"))
    assert len(api.ids("id∩bulk-1-0,bulk-1-1,bulk-50-1")) == 3


# --- restart and forget ---------------------------------------------------------------------


def test_restart_forgets_ops_and_reuses_ids_with_another_created_at(api: Api) -> None:
    old = api.call("DELETE", "/imgs/100020", params={"wait": "true"}).json()
    restarted = api.call("POST", "/_sandbox/restart")
    assert restarted.json() == {"forgotten": 1}
    assert api.call("GET", f"/ops/{old['op_id']}").status_code == 404
    assert api.ops() == []
    new = api.call("DELETE", "/imgs/100021").json()
    assert new["op_id"] == old["op_id"] == 1
    assert new["created_at"] > old["created_at"]
    assert api.call("GET", "/imgs/100020").status_code == 404  # images survive a restart
    api.finished(new["op_id"])
    assert api.call("POST", "/_sandbox/restart", json={"next_op_id": 500}).json() == {
        "forgotten": 1
    }
    assert api.call("DELETE", "/imgs/100022").json()["op_id"] == 500


def test_restart_drops_queued_ops_and_waiting_requests(server: SandboxServer, api: Api) -> None:
    api.knobs(hold=True)
    queued = api.call("DELETE", "/imgs/100030").json()["op_id"]
    outcome: list[BaseException | int] = []

    def waited_delete() -> None:
        try:
            outcome.append(api.call("DELETE", "/imgs/100031", params={"wait": "true"}).status_code)
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=waited_delete)
    thread.start()
    poll(lambda: len(api.ops(state="queued")) == 2)
    api.call("POST", "/_sandbox/restart", json={})
    thread.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], requests.exceptions.ConnectionError)
    api.knobs(hold=False)
    after = api.call("DELETE", "/imgs/100032", params={"wait": "true"}).json()
    assert after["op_id"] == queued  # numbering restarted
    assert api.call("GET", "/imgs/100030").status_code == 200  # the forgotten ops never ran
    assert api.call("GET", "/imgs/100031").status_code == 200


def test_forget_one_op(api: Api) -> None:
    ids = [api.call("DELETE", f"/imgs/{i}", params={"wait": "1"}).json()["op_id"] for i in (1, 2)]
    assert api.call("DELETE", f"/_sandbox/ops/{ids[0]}").status_code == 200
    assert api.call("GET", f"/ops/{ids[0]}").status_code == 404
    assert api.call("DELETE", f"/_sandbox/ops/{ids[0]}").status_code == 404
    assert _ids(api.ops()) == [ids[1]]
    assert _ids(api.ops(method="del", state="finished")) == [ids[1]]
    assert api.call("DELETE", "/imgs/3").json()["op_id"] == ids[1] + 1  # numbering goes on


def test_forgetting_a_queued_op_means_it_never_runs(api: Api) -> None:
    api.knobs(hold=True)
    op_id = api.call("DELETE", "/imgs/100040").json()["op_id"]
    assert api.call("DELETE", f"/_sandbox/ops/{op_id}").status_code == 200
    api.knobs(hold=False)
    api.call("DELETE", "/imgs/100041", params={"wait": "true"})
    assert api.call("GET", "/imgs/100040").status_code == 200
    assert api.ops(state="unfinished") == []


# --- ops_404 --------------------------------------------------------------------------------


def test_ops_404_hides_existing_ops_from_get_and_cancel(api: Api) -> None:
    api.knobs(hold=True)
    first, second = (api.call("DELETE", f"/imgs/{i}").json()["op_id"] for i in (100050, 100051))
    api.knobs(ops_404=[first])
    assert api.call("GET", f"/ops/{first}").json() == {"detail": "Operation not found"}
    assert api.call("DELETE", f"/ops/{first}").status_code == 404
    assert api.call("GET", f"/ops/{second}").status_code == 200
    assert _ids(api.ops()) == [second, first]  # the list still shows it
    api.knobs(ops_404="all")
    assert api.call("GET", f"/ops/{second}").status_code == 404
    api.knobs(ops_404=[], hold=False)
    assert api.finished(first)["num_good"] == 1
