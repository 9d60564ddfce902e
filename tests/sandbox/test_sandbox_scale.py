"""The sandbox at console scale: many-id searches, paging a big store, 10,000-id deletes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox.support import Api, poll
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.sandbox.query import parse_query
from wesog_dash.sandbox.records import make_record
from wesog_dash.sandbox.seed import demo_image

BIG = 20_000


def _seeded(n: int) -> str:
    """Id of the n-th seeded image (0-based)."""
    return str(100001 + n)


@pytest.fixture(scope="module")
def big_server() -> Iterator[SandboxServer]:
    """A sandbox of 20,000 images shared by the read-only tests of this module."""
    settings = SandboxSettings(api_key="big-key", images=BIG, item_ms=0, start_ms=0)
    sandbox = SandboxServer(settings, port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def big(big_server: SandboxServer) -> Iterator[Api]:
    """Helper on the shared big sandbox (tests using it must not write)."""
    with requests.Session() as session:
        session.headers["API-Key"] = "big-key"
        yield Api(big_server, session)


def test_id_intersection_of_thousands_of_ids(big: Api) -> None:
    wanted = [_seeded(n) for n in range(0, BIG, 4)][:4000]
    q = "id∩" + ",".join([*wanted, "ghost", "not-there"])
    body = big.search(q=q, limit=10000, fields=["image_id"])
    assert body["count"] == 4000
    assert [image["image_id"] for image in body["results"]] == wanted


def test_or_chain_of_id_filters_has_no_depth_limit(big: Api) -> None:
    wanted = [_seeded(n) for n in range(3, 3 * 2000, 3)]
    q = " || ".join(f"id={image_id}" for image_id in wanted)
    assert big.ids(q, fields=["image_id"]) == wanted
    assert big.ids(f"(ai=true || ai=false) && ({q})", fields=["image_id"]) == wanted


def test_and_chain_of_thousands_of_filters() -> None:
    query = parse_query(" && ".join(["id>100000"] * 3000 + ["id<100003"]))
    rng = random.Random(1)
    records = [make_record(demo_image(_seeded(n), rng)) for n in range(5)]
    assert [r.image_id for r in records if query.matches(r)] == ["100001", "100002"]


def test_id_sets_compare_numbers_by_value_and_other_ids_by_text(api: Api) -> None:
    batch = [{"id": "007", "src": "s"}, {"id": "x-1", "src": "s"}]
    assert api.call("POST", "/imgs", params={"wait": "true"}, json=batch).status_code == 200
    assert api.ids("id∩100002.0, 7, x-1") == ["100002", "x-1"]
    assert api.ids("id=007 || id=1e5 || id=100003") == ["100003", "007"]


def test_paging_through_every_image_with_the_largest_pages(big: Api) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        body = big.search(page=page, limit=10000, fields=["image_id", "url_img_thumbnail"])
        assert body["count"] == BIG
        seen += [image["image_id"] for image in body["results"]]
        if body["results"]:
            last = body["results"][-1]
            assert last["url_img_thumbnail"] == f"{big.server.url}/thumbs/{last['image_id']}.svg"
    assert seen == [_seeded(n) for n in range(BIG)]


@pytest.fixture
def fresh_big() -> Iterator[Api]:
    """A sandbox of 20,000 images of its own, for tests that write."""
    settings = SandboxSettings(api_key="k", images=BIG, item_ms=0, start_ms=0)
    with SandboxServer(settings, port=0) as sandbox, requests.Session() as session:
        session.headers["API-Key"] = "k"
        yield Api(sandbox, session)


def test_batch_delete_of_10000_ids(fresh_big: Api) -> None:
    doomed = [_seeded(n) for n in range(0, BIG, 2)]
    response = fresh_big.call("DELETE", "/imgs", params={"wait": "true"}, json=doomed)
    assert response.status_code == 200
    op = response.json()
    assert (op["num_total"], op["num_good"], op["num_bad"]) == (10_000, 10_000, 0)
    body = fresh_big.search(limit=10000, fields=["image_id"])
    assert body["count"] == BIG - 10_000
    assert [image["image_id"] for image in body["results"]] == [
        _seeded(n) for n in range(1, BIG, 2)
    ]


def test_batch_delete_progress_is_visible_while_it_runs(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 30
    op_id = api.call("DELETE", "/imgs", json=[_seeded(n) for n in range(10)]).json()["op_id"]
    partial = poll(lambda: 0 < (op := api.op(op_id))["num_good"] < 10 and op)
    gone = 500 - api.search(limit=1)["count"]
    assert partial["num_good"] <= gone <= 10  # reads see every element as soon as it applies
    assert api.finished(op_id)["num_good"] == 10


def test_list_of_10000_ops_pages_by_keyset(api: Api) -> None:
    assert api.call("POST", "/_sandbox/ops/bulk", json={"count": 10_000}).status_code == 200
    api.knobs(hold=True)
    queued = [api.call("DELETE", f"/imgs/{i}").json()["op_id"] for i in (100001, 100002)]
    unfinished = api.call("GET", "/ops", params={"state": "unfinished"})
    assert [op["op_id"] for op in unfinished.json()] == queued[::-1]
    seen: list[int] = []
    before = 10_003
    while page := api.ops(limit=1000, state="finished", before_op_id=before):
        seen += [op["op_id"] for op in page]
        before = page[-1]["op_id"]
    assert seen == list(range(10_000, 0, -1))


def _restorable(image: dict[str, Any]) -> dict[str, Any]:
    """A POST /imgs item from a GET /imgs/{id} answer: `id` for `image_id`, no computed fields."""
    computed = {"image_id", "width", "height", "n_faces"}
    return {"id": image["image_id"], **{k: v for k, v in image.items() if k not in computed}}


def test_batch_add_restores_every_field_of_deleted_images(api: Api) -> None:
    api.knobs(item_ms=0)
    ids = [_seeded(n) for n in range(0, 100, 2)]
    originals = [api.call("GET", f"/imgs/{image_id}").json() for image_id in ids]
    assert api.call("DELETE", "/imgs", params={"wait": "true"}, json=ids).json()["num_good"] == 50
    assert api.ids("id∩" + ",".join(ids)) == []
    restore = [_restorable(image) for image in originals]
    added = api.call("POST", "/imgs", params={"wait": "true", "strict": "true"}, json=restore)
    assert added.status_code == 200 and added.json()["all_good"] is True
    assert [api.call("GET", f"/imgs/{image_id}").json() for image_id in ids] == originals
