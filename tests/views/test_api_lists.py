"""Lists with keyset paging (operations, deletions, items, audit) and the three ways to
create a deletion through the API (JSON ids, an uploaded list, a search formula)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from flask import Flask

from tests.conftest import wait_for
from tests.views.test_api_v1 import bearer, token_for
from wesog_dash.extensions import db
from wesog_dash.models import Operation

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


@pytest.fixture
def token(app: Flask) -> str:
    """An operator's token."""
    return token_for(app, "otto", "operator")


def add_operations(app: Flask) -> None:
    """Six stored operations: op 1..6, even ones tracked and finished, on two days."""
    with app.app_context():
        for op_id in range(1, 7):
            even = op_id % 2 == 0
            db.session.add(
                Operation(
                    op_id=op_id,
                    method="del",
                    resource="imgs",
                    num_total=2,
                    num_good=2,
                    is_started=True,
                    is_finished=even,
                    origin="tracked" if even else "dashboard",
                    state="finished" if even else "running",
                    created_at=datetime(2026, 11, 1 if op_id <= 3 else 2, 12, tzinfo=UTC),
                    errors=[{"id": 100001, "msg": "image not found"}] if op_id == 6 else [],
                )
            )
        db.session.commit()


def test_operations_filter_and_page_by_op_id(app: Flask, client, token: str) -> None:
    add_operations(app)
    first = client.get("/api/v1/ops?limit=4", headers=bearer(token)).json
    assert [op["op_id"] for op in first["items"]] == [6, 5, 4, 3]
    rest = client.get(f"/api/v1/ops?limit=4&before={first['next_before']}", headers=bearer(token))
    assert [op["op_id"] for op in rest.json["items"]] == [2, 1] and rest.json["next_before"] is None
    tracked = client.get("/api/v1/ops?origin=tracked&state=finished", headers=bearer(token)).json
    assert [op["op_id"] for op in tracked["items"]] == [6, 4, 2]
    day = client.get("/api/v1/ops?created_from=2026-11-02&method=del", headers=bearer(token)).json
    assert [op["op_id"] for op in day["items"]] == [6, 5, 4]
    one = client.get("/api/v1/ops/6", headers=bearer(token)).json
    assert one["errors"] == [{"id": 100001, "msg": "image not found"}]
    assert one["progress"]["percent_done"] == 100.0


def test_bad_filters_are_invalid_request_problems(client, token: str) -> None:
    for query in ("state=exploded", "limit=0", "created_from=yesterday", "before=x"):
        response = client.get(f"/api/v1/ops?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert response.json["type"].endswith("/invalid-request")
        assert response.json["errors"][0]["loc"], query
    audit = client.get("/api/v1/audit/events?action=nope", headers=bearer(token))
    assert audit.status_code == 400 and "action" in audit.json["detail"]


def test_an_uploaded_text_list_creates_one_deletion(app: Flask, client, token: str) -> None:
    body = "100001\n\n  100002 \n100003\n"
    response = client.post(
        "/api/v1/deletions?reason=ticket%2042&urgent=true",
        data=body,
        content_type="text/plain; charset=utf-8",
        headers=bearer(token),
    )
    assert response.status_code == 202, response.json
    created = response.json
    assert [i["image_id"] for i in created["items"]] == ["100001", "100002", "100003"]
    assert created["do_urgent"] is True and created["reason"] == "ticket 42"
    assert created["outcome_counts"] == {"pending": 3}
    no_reason = client.post(
        "/api/v1/deletions", data=body, content_type="text/plain", headers=bearer(token)
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json["detail"]


def test_a_multipart_upload_and_paging_its_items(app: Flask, client, token: str) -> None:
    ids = "\n".join(str(100001 + n) for n in range(7)).encode()
    form = {"reason": "bulk", "strict": "true", "ids": (io.BytesIO(ids), "ids.txt")}
    response = client.post(
        "/api/v1/deletions", data=form, content_type="multipart/form-data", headers=bearer(token)
    )
    assert response.status_code == 202, response.json
    deletion_id = response.json["id"]
    assert response.json["do_strict"] is True and response.json["item_count"] == 7
    url = f"/api/v1/deletions/{deletion_id}/items?limit=3"
    pages, after = [], None
    while True:
        page = client.get(
            url + (f"&after={after}" if after is not None else ""), headers=bearer(token)
        )
        pages.append([item["image_id"] for item in page.json["items"]])
        after = page.json["next_after"]
        if after is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == [str(100001 + n) for n in range(7)]


def test_a_search_formula_is_resolved_to_its_ids(app: Flask, client, token: str) -> None:
    body = {"query": "id<100004", "reason": "all early ones"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(token))
    assert response.status_code == 202, response.json
    created = response.json
    assert created["selection_kind"] == "query" and created["selection_query"] == "id<100004"
    assert sorted(i["image_id"] for i in created["items"]) == ["100001", "100002", "100003"]
    nothing = client.post(
        "/api/v1/deletions", json={"query": "id=999", "reason": "x"}, headers=bearer(token)
    )
    assert nothing.status_code == 400 and "matches no image" in nothing.json["detail"]


@pytest.mark.parametrize("app_overrides", [{"WESOG_QUERY_DELETE_MAX": 2}])
def test_a_formula_matching_too_much_is_refused(client, token: str) -> None:
    body = {"query": "id<100010", "reason": "too much"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.json["type"] == "https://wesog-dash/problems/too-many-matches"


def test_an_unknown_media_type_is_a_415_problem(client, token: str) -> None:
    response = client.post(
        "/api/v1/deletions", data="<x/>", content_type="application/xml", headers=bearer(token)
    )
    assert response.status_code == 415 and response.json["type"].endswith("/unsupported-media-type")


def test_deletions_list_newest_first_by_keyset(client, token: str) -> None:
    for n in range(3):
        body = {"image_ids": [str(100010 + n), str(100020 + n)], "reason": f"r{n}"}
        assert client.post("/api/v1/deletions", json=body, headers=bearer(token)).status_code == 202
    first = client.get("/api/v1/deletions?limit=2", headers=bearer(token)).json
    assert [d["reason"] for d in first["items"]] == ["r2", "r1"]
    assert (
        first["items"][0]["outcome_counts"] == {"pending": 2} and "items" not in first["items"][0]
    )
    rest = client.get(f"/api/v1/deletions?before={first['next_before']}", headers=bearer(token))
    assert [d["reason"] for d in rest.json["items"]] == ["r0"]
    pending = client.get("/api/v1/deletions?state=pending", headers=bearer(token)).json
    assert len(pending["items"]) == 3


def test_audit_events_with_the_pages_filters_and_the_verdict(app, client, token: str) -> None:
    for n in range(3):
        body = {"image_ids": [str(100030 + n), "100040"], "reason": f"audit {n}"}
        client.post("/api/v1/deletions", json=body, headers=bearer(token))
    url = "/api/v1/audit/events?action=deletion.requested&limit=2"
    page = client.get(url, headers=bearer(token)).json
    assert [e["reason"] for e in page["items"]] == ["audit 2", "audit 1"]
    assert page["verdict"]["state"] == "intact" and page["verdict"]["events"] >= 4
    older = client.get(f"{url}&before={page['older_before']}", headers=bearer(token)).json
    assert [e["reason"] for e in older["items"]] == ["audit 0"]
    assert older["newer_after"] is not None
    by_image = client.get("/api/v1/audit/events?image_id=100031", headers=bearer(token)).json
    assert [e["reason"] for e in by_image["items"]] == ["audit 1"]
    wait_for(lambda: client.get("/api/v1/audit/verdict", headers=bearer(token)).json["state"])
    verdict = client.get("/api/v1/audit/verdict", headers=bearer(token)).json
    assert verdict["state"] == "intact" and verdict["broken_id"] is None


def test_a_retired_operation_is_read_at_its_negative_key(app: Flask, client, token: str) -> None:
    add_operations(app)
    with app.app_context():
        db.session.add(
            Operation(
                op_id=-3,
                upstream_op_id=3,
                method="del",
                resource="imgs",
                num_total=1,
                num_good=1,
                is_started=True,
                is_finished=True,
                origin="dashboard",
                state="finished",
                errors=[],
            )
        )
        db.session.commit()
    retired = client.get("/api/v1/ops/-3", headers=bearer(token))
    assert retired.status_code == 200 and retired.json["upstream_op_id"] == 3
    last = client.get("/api/v1/ops?before=1", headers=bearer(token)).json
    assert [op["op_id"] for op in last["items"]] == [-3]
