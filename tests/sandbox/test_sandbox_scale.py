"""The sandbox at console scale: many-id searches, paging a big store, 10,000-id deletes."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import requests

from tests.sandbox.support import Api
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
