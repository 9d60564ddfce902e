"""The Wesog sandbox over real HTTP: auth, search, writes, operations, knobs, thumbnails."""

from __future__ import annotations

import datetime as dt
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.sandbox.support import OP_FIELDS, TIMEOUT, Api, img_path, poll
from wesog_dash.sandbox import SandboxServer
from wesog_dash.sandbox.seed import demo_images

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- auth and errors ------------------------------------------------------------------------


def test_missing_or_wrong_api_key_is_401_with_detail(server: SandboxServer) -> None:
    for headers in ({}, {"API-Key": "wrong"}):
        response = requests.get(server.url + "/imgs", headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid or missing API key"}
    response = requests.post(server.url + "/imgs/x", json={"src": "s"}, timeout=TIMEOUT)
    assert response.status_code == 401
    assert server.state.list_ops() == []


def test_auth_status_403_variant(server: SandboxServer) -> None:
    server.settings.auth_status = 403
    response = requests.get(server.url + "/ops", timeout=TIMEOUT)
    assert response.status_code == 403
    assert response.json() == {"detail": "Not authenticated"}


def test_unknown_path_is_json_404_and_wrong_method_405(api: Api) -> None:
    assert api.call("GET", "/nothing").json() == {"detail": "Not Found"}
    response = api.call("POST", "/ops")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


# --- search ---------------------------------------------------------------------------------


def test_default_listing_is_paged_by_id_with_total_count(api: Api) -> None:
    first = api.search()
    assert first["count"] == 500
    assert first["facets"] == {}
    ids = [image["image_id"] for image in first["results"]]
    assert ids == [str(100001 + n) for n in range(50)]
    page = api.search(page=3, limit=200)
    assert [i["image_id"] for i in page["results"]] == [str(100401 + n) for n in range(100)]
    assert api.search(page=99)["results"] == []
    assert api.search(count="false")["count"] is None


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 10001}, ["query", "limit"]),
        ({"page": 0}, ["query", "page"]),
        ({"page": "two"}, ["query", "page"]),
        ({"count": "maybe"}, ["query", "count"]),
        ({"sort_by": "colour"}, ["query", "sort_by"]),
        ({"order": "up"}, ["query", "order"]),
        ({"fields": ["title", "nope"]}, ["query", "fields", 1]),
        ({"facets": "title"}, ["query", "facets", 0]),
    ],
)
def test_bad_search_parameters_are_422_with_a_list_detail(
    api: Api, params: dict[str, Any], loc: list[Any]
) -> None:
    response = api.call("GET", "/imgs", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [entry["loc"] for entry in detail] == [loc]
    assert all(entry["msg"] and entry["type"] for entry in detail)


def test_limit_bounds_are_inclusive(api: Api) -> None:
    assert len(api.search(limit=1)["results"]) == 1
    assert len(api.search(limit=10000)["results"]) == 500


def test_fields_projection_keeps_only_the_named_fields(api: Api) -> None:
    results = api.search(fields=["image_id", "title"], limit=3)["results"]
    assert [list(image) for image in results] == [["image_id", "title"]] * 3
    full = api.search(limit=1)["results"][0]
    assert len(full) == 30


def test_id_filter_compares_numerically_and_with_intersection(api: Api) -> None:
    assert api.ids("id=100007") == ["100007"]
    assert api.ids("id<100004") == ["100001", "100002", "100003"]
    assert api.ids("id >= 100499") == ["100499", "100500"]
    assert api.ids("id∩100003,100001, 100009") == ["100001", "100003", "100009"]
    assert api.ids("id=nope") == []


def test_date_filters_accept_single_digit_parts(api: Api) -> None:
    images = api.everything()
    dates = {image["image_id"]: dt.date.fromisoformat(image["date"]) for image in images}
    assert min(dates.values()).year >= 2015 and max(dates.values()).year <= 2026
    cut = dt.date(2020, 3, 5)
    assert api.ids("d>=2020-3-5") == [i for i, d in dates.items() if d >= cut]
    assert api.ids("date<2020-03-05") == [i for i, d in dates.items() if d < cut]
    some_id, some_date = next(iter(dates.items()))
    exact = f"d={some_date.year}-{some_date.month}-{some_date.day}"
    assert some_id in api.ids(exact)
    assert all(dates[i] == some_date for i in api.ids(exact))


def test_boolean_filters_ai_and_nsfw(api: Api) -> None:
    images = api.everything()
    ai = [i["image_id"] for i in images if i["ai_generated"]]
    nsfw = [i["image_id"] for i in images if i["nsfw"]]
    assert 0 < len(ai) < len(images) / 3
    assert api.ids("ai=true") == ai
    assert api.ids("ai=false") == [i["image_id"] for i in images if not i["ai_generated"]]
    assert api.ids("nsfw=true") == nsfw
    assert len(nsfw) < len(images) / 10


def _words(image: dict[str, Any]) -> set[str]:
    text = " ".join([image["title"] or "", image["headline"] or "", image["caption"] or ""])
    text += " " + " ".join(image["keywords"] or [])
    return {w.casefold() for w in re.findall(r"\w+", text)}


def test_text_filter_needs_every_word_case_insensitively(api: Api) -> None:
    images = api.everything()
    expected = [i["image_id"] for i in images if {"red", "car"} <= _words(i)]
    assert expected
    assert api.ids("t~Red CAR") == expected
    assert api.ids("txt~~red car") == expected
    assert api.ids("text~~~car red") == expected
    assert api.ids("t~car zzzunknownword") == []


def test_keyword_filter_all_versus_any(api: Api) -> None:
    images = api.everything()
    keywords = {i["image_id"]: {k.casefold() for k in i["keywords"]} for i in images}
    both = [i for i, kws in keywords.items() if {"dog", "pet"} <= kws]
    either = [i for i, kws in keywords.items() if kws & {"dog", "cat"}]
    assert both and len(either) > len(both)
    assert api.ids("k=dog,pet") == both
    assert api.ids("keywords=Dog, Pet") == both
    assert api.ids("key∩dog,cat") == either


def test_and_binds_tighter_than_or_and_parentheses_group(api: Api) -> None:
    images = {i["image_id"]: i for i in api.everything()}
    low = {i for i in images if int(i) < 100010}
    ai = {i for i, image in images.items() if image["ai_generated"]}
    nsfw = {i for i, image in images.items() if image["nsfw"]}
    assert set(api.ids("id<100010 || ai=true && nsfw=false")) == low | (ai - nsfw)
    assert set(api.ids("(id<100010 || ai=true) && nsfw=false")) == (low | ai) - nsfw
    assert set(api.ids("  ( id < 100010 )&&( ai = true )  ")) == low & ai


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("(id=1", "Missing ')'"),
        ("id=1 )", "Unexpected token ')' at position 5"),
        ("zz=3", "Unknown filter 'zz'"),
        ("id", "missing operator"),
        ("id=", "Missing value for filter 'id'"),
        ("&& id=1", "Unexpected token '&&' at position 0"),
        ("id=1 ||", "Unexpected end of formula"),
        ("t<car", "Operator '<' is not supported by filter 't'"),
        ("d>2020-13-45", "Invalid date"),
        ("ai=maybe", "Invalid boolean"),
        ("()", "Unexpected token ')' at position 1"),
        ("id=((1", "Unexpected token '(' at position 3"),
    ],
)
def test_formula_that_does_not_parse_is_422_saying_why(api: Api, q: str, message: str) -> None:
    response = api.call("GET", "/imgs", params={"q": q})
    assert response.status_code == 422
    (entry,) = response.json()["detail"]
    assert entry["loc"] == ["query", "q"]
    assert message in entry["msg"]


def test_sort_by_field_and_order_with_missing_values_last(api: Api) -> None:
    images = api.everything()
    by_date = [i["image_id"] for i in sorted(images, key=lambda i: i["date"])]
    assert api.ids(sort_by="date") == by_date
    # Descending keeps ties in default (id ascending) order: the sort is stable.
    newest = [i["image_id"] for i in sorted(images, key=lambda i: i["date"], reverse=True)]
    assert api.ids(sort_by="date", order="desc") == newest
    assert api.ids(sort_by="date", sort_order="desc") == newest
    no_event = [i["image_id"] for i in images if not i["event"]]
    ordered = api.ids(sort_by="event", order="desc")
    assert no_event and ordered[-len(no_event) :] == no_event
    assert api.ids(sort_by="similarity") == [i["image_id"] for i in images]  # no ~ filter


def test_sort_by_similarity_puts_title_matches_first(api: Api) -> None:
    ranked = api.search(q="t~car", sort_by="sim", limit=10000)["results"]
    assert ranked
    in_title = [
        "car" in _words({**i, "headline": "", "caption": "", "keywords": []}) for i in ranked
    ]
    assert in_title == sorted(in_title, reverse=True)


def test_facets_count_the_whole_hit_set(api: Api) -> None:
    body = api.search(q="ai=false", limit=1, facets=["country", "keywords", "nsfw", "orientation"])
    images = [i for i in api.everything() if not i["ai_generated"]]
    assert body["count"] == len(images) and len(body["results"]) == 1
    facets = body["facets"]
    assert facets["country"] == dict(Counter(i["country"] for i in images))
    assert facets["keywords"] == dict(Counter(k for i in images for k in set(i["keywords"])))
    assert sum(facets["nsfw"].values()) == len(images)
    assert set(facets["nsfw"]) <= {"true", "false"}
    assert set(facets["orientation"]) <= {"landscape", "portrait", "square"}


# --- single images --------------------------------------------------------------------------


def test_get_one_image_with_projection_and_404(api: Api) -> None:
    image = api.call("GET", "/imgs/100042").json()
    assert image["image_id"] == "100042"
    assert image["src"] == "https://images.example.com/demo/100042.jpg"
    projected = api.call("GET", "/imgs/100042", params={"fields": ["city", "title"]}).json()
    assert projected == {"city": image["city"], "title": image["title"]}
    missing = api.call("GET", "/imgs/999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}


def test_add_returns_202_snapshot_and_image_appears_once_processed(api: Api) -> None:
    response = api.call("POST", "/imgs/new-1", json={"src": "https://x/new.jpg", "title": "New"})
    assert response.status_code == 202
    op = response.json()
    assert list(op) == ["op_id", *OP_FIELDS]
    assert op["op_id"] == 1 and op["method"] == "add" and op["resource"] == "image"
    assert (op["num_total"], op["num_good"], op["num_bad"]) == (1, 0, 0)
    assert op["is_started"] is False and op["all_good"] is None and op["started_at"] is None
    poll(lambda: api.call("GET", "/imgs/new-1").status_code == 200)
    image = api.call("GET", "/imgs/new-1").json()
    assert image["title"] == "New" and image["caption"] is None
    assert isinstance(image["width"], int) and isinstance(image["n_faces"], int)
    second = api.call("DELETE", "/imgs/new-1", params={"lang": "zz"}).json()
    assert second["op_id"] == 2 and second["method"] == "del"


def test_put_replaces_and_patch_merges(api: Api) -> None:
    before = api.call("GET", "/imgs/100002").json()
    put = api.call(
        "PUT", "/imgs/100002", params={"wait": "true"}, json={"src": before["src"], "title": "T"}
    )
    assert put.status_code == 200 and put.json()["method"] == "upd"
    replaced = api.call("GET", "/imgs/100002").json()
    assert replaced["title"] == "T" and replaced["caption"] is None and replaced["keywords"] is None
    assert replaced["width"] == before["width"]  # same src: computed values kept
    patch = api.call(
        "PATCH",
        "/imgs/100002",
        params={"wait": "1", "lang": "en"},
        json={"caption": "C", "keywords": ["a", "b"], "title": None, "date": "2021-2-3"},
    )
    assert patch.json()["num_good"] == 1
    patched = api.call("GET", "/imgs/100002").json()
    assert patched["caption"] == "C" and patched["keywords"] == ["a", "b"]
    assert patched["title"] is None and patched["date"] == "2021-02-03"
    assert patched["src"] == before["src"]


def test_batch_add_update_and_delete(api: Api) -> None:
    add = api.call(
        "POST",
        "/imgs",
        params={"wait": "true"},
        json=[{"id": "b1", "src": "s1", "keywords": ["zebra"]}, {"id": "b2", "src": "s2"}],
    ).json()
    assert (add["num_total"], add["num_good"], add["all_good"]) == (2, 2, True)
    assert api.ids("k=zebra") == ["b1"]
    api.call("PATCH", "/imgs", params={"wait": "true"}, json=[{"id": "b2", "keywords": ["zebra"]}])
    assert api.ids("k=zebra") == ["b1", "b2"]
    api.call("PUT", "/imgs", params={"wait": "true"}, json=[{"id": "b1", "src": "s1"}])
    assert api.ids("k=zebra") == ["b2"]
    delete = api.call("DELETE", "/imgs", params={"wait": "true"}, json=["b1", {"id": "b2"}])
    assert delete.status_code == 200 and delete.json()["num_good"] == 2
    assert api.ids("id∩b1,b2") == []


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("POST", "/imgs/x", {}, {"title": "no src"}),
        ("POST", "/imgs/x", {}, {"src": "s", "image_id": "x"}),
        ("POST", "/imgs/x", {}, {"src": "s", "width": 3}),
        ("POST", "/imgs/x", {}, {"src": "s", "nsfw": "yes"}),
        ("POST", "/imgs/x", {}, {"src": "s", "keywords": "a,b"}),
        ("POST", "/imgs/x", {}, {"src": "s", "date": "yesterday"}),
        ("POST", "/imgs/x", {"lang": "de"}, {"src": "s"}),
        ("POST", "/imgs/x", {"wait": "maybe"}, {"src": "s"}),
        ("PUT", "/imgs/x", {}, {"title": "no src"}),
        ("PATCH", "/imgs/x", {}, ["not", "an", "object"]),
        ("POST", "/imgs", {}, [{"src": "no id"}]),
        ("POST", "/imgs", {}, {"id": "x", "src": "not a list"}),
        ("PUT", "/imgs", {}, [{"id": "a/b", "src": "s"}]),
        ("DELETE", "/imgs", {}, []),
        ("DELETE", "/imgs", {}, [1, 2]),
        ("DELETE", "/imgs", {}, [{"image": "x"}]),
        ("DELETE", "/imgs", {}, {"ids": ["x"]}),
        ("DELETE", "/imgs/x", {"strict": "sometimes"}, None),
    ],
)
def test_invalid_write_is_422_and_creates_no_operation(
    api: Api, method: str, path: str, params: dict[str, str], body: Any
) -> None:
    response = api.call(method, path, params=params, json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert api.call("GET", "/ops").json() == []


def test_broken_json_body_is_422(api: Api) -> None:
    response = api.call("POST", "/imgs", data=b"[{", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


# --- strict mode ----------------------------------------------------------------------------


def test_relaxed_delete_of_missing_id_is_a_good_no_op(api: Api) -> None:
    op = api.call("DELETE", "/imgs/ghost", params={"wait": "true"}).json()
    assert (op["num_good"], op["num_bad"], op["all_good"], op["errors"]) == (1, 0, True, [])


def test_strict_delete_of_missing_id_fails_the_item(api: Api) -> None:
    op = api.call(
        "DELETE", "/imgs", params={"wait": "true", "strict": "true"}, json=["100001", "ghost", "7"]
    ).json()
    assert op["do_strict"] is True
    assert (op["num_total"], op["num_good"], op["num_bad"], op["all_good"]) == (3, 1, 2, False)
    assert op["errors"] == [
        {"id": "ghost", "msg": "image not found"},
        {"id": 7, "msg": "image not found"},
    ]
    assert api.call("GET", "/imgs/100001").status_code == 404  # the good element still applied


def test_strict_add_of_existing_id_fails_and_relaxed_add_upserts(api: Api) -> None:
    strict = api.call(
        "POST", "/imgs/100003", params={"wait": "true", "strict": "true"}, json={"src": "new"}
    ).json()
    assert strict["errors"] == [{"id": 100003, "msg": "image already exists"}]
    assert api.call("GET", "/imgs/100003").json()["src"].startswith("https://images.example.com")
    api.call("POST", "/imgs/100003", params={"wait": "true"}, json={"src": "new"})
    replaced = api.call("GET", "/imgs/100003").json()
    assert replaced["src"] == "new" and replaced["title"] is None


def test_strict_update_of_missing_id_fails_relaxed_ignores_it(api: Api) -> None:
    relaxed = api.call("PATCH", "/imgs/ghost", params={"wait": "true"}, json={"title": "x"})
    assert relaxed.json()["all_good"] is True
    assert api.call("GET", "/imgs/ghost").status_code == 404
    strict = api.call("PUT", "/imgs/ghost", params={"wait": "1", "strict": "1"}, json={"src": "s"})
    assert strict.json()["errors"] == [{"id": "ghost", "msg": "image not found"}]


def test_simulated_failures_leave_the_image_untouched(server: SandboxServer, api: Api) -> None:
    server.settings.fail_rate = 1.0
    op = api.call("DELETE", "/imgs/100004", params={"wait": "true"}).json()
    assert op["errors"] == [{"id": 100004, "msg": "simulated failure"}]
    assert op["all_good"] is False
    assert api.call("GET", "/imgs/100004").status_code == 200


# --- operations -----------------------------------------------------------------------------


def test_wait_true_blocks_until_finished_and_answers_200(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 60
    started = time.monotonic()
    response = api.call("DELETE", "/imgs", params={"wait": "true"}, json=["100010", "100011"])
    assert time.monotonic() - started >= 0.12
    assert response.status_code == 200
    op = response.json()
    assert list(op) == ["op_id", *OP_FIELDS]
    assert op["is_finished"] is True and op["do_wait"] is True and op["num_good"] == 2
    assert api.call("GET", "/imgs/100010").status_code == 404


def test_operation_lifecycle_queued_started_finished(server: SandboxServer, api: Api) -> None:
    server.settings.start_ms = 150
    server.settings.item_ms = 150
    blocker = api.call("DELETE", "/imgs/100020").json()["op_id"]
    op_id = api.call("DELETE", "/imgs", json=["100021", "ghost", "100022"]).json()["op_id"]
    queued = api.op(op_id)
    assert list(queued) == OP_FIELDS  # no op_id in GET /ops/{op_id}
    assert queued["is_started"] is False and queued["all_good"] is None
    assert queued["exec_ms"] == 0 and ISO_MS.match(queued["created_at"])
    later = poll(lambda: (op := api.op(op_id))["idle_ms"] > queued["idle_ms"] and op)
    assert later["is_started"] is False
    running = poll(lambda: (op := api.op(op_id))["is_started"] and op)
    assert ISO_MS.match(running["started_at"]) and running["finished_at"] is None
    progressing = poll(lambda: (op := api.op(op_id))["num_good"] >= 1 and op)
    assert progressing["all_good"] is True and progressing["is_finished"] is False
    growing = poll(lambda: (op := api.op(op_id))["exec_ms"] > progressing["exec_ms"] and op)
    assert growing["idle_ms"] == running["idle_ms"]  # frozen once started
    done = api.finished(op_id)
    assert (done["num_good"], done["num_bad"], done["all_good"]) == (3, 0, True)
    assert ISO_MS.match(done["finished_at"]) and done["exec_ms"] >= 3 * 150 - 20
    assert api.finished(blocker)["finished_at"] <= done["started_at"]


def test_urgent_operation_runs_before_earlier_queued_ones(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 60
    first = api.call("DELETE", "/imgs/100030").json()["op_id"]
    normal = [api.call("DELETE", f"/imgs/{i}").json()["op_id"] for i in (100031, 100032)]
    urgent = api.call("DELETE", "/imgs/100033", params={"urgent": "true"}).json()
    assert urgent["do_urgent"] is True
    ops = {op_id: api.finished(op_id) for op_id in [first, *normal, urgent["op_id"]]}
    starts = sorted(ops, key=lambda op_id: ops[op_id]["started_at"])
    assert starts == [first, urgent["op_id"], *normal]


def test_list_ops_newest_first_with_op_id_and_paging(api: Api) -> None:
    ids = [api.call("DELETE", f"/imgs/{i}").json()["op_id"] for i in (100040, 100041, 100042)]
    listed = api.call("GET", "/ops").json()
    assert [op["op_id"] for op in listed] == ids[::-1]
    assert all(list(op) == ["op_id", *OP_FIELDS] for op in listed)
    page = api.call("GET", "/ops", params={"page": 2, "limit": 2}).json()
    assert [op["op_id"] for op in page] == [ids[0]]
    assert api.call("GET", "/ops", params={"limit": 0}).status_code == 422


def test_unknown_op_is_404_and_non_integer_op_id_is_422(api: Api) -> None:
    missing = api.call("GET", "/ops/12345")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Operation not found"}
    bad = api.call("GET", "/ops/abc")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["path", "op_id"]


def test_cancel_a_queued_operation_but_not_a_started_one(server: SandboxServer, api: Api) -> None:
    server.settings.item_ms = 200
    running = api.call("DELETE", "/imgs/100050").json()["op_id"]
    queued = api.call("DELETE", "/imgs", json=["100051", "100052"]).json()["op_id"]
    cancelled = api.call("DELETE", f"/ops/{queued}")
    assert cancelled.status_code == 200
    op = cancelled.json()
    assert op["is_finished"] is True and op["is_started"] is False and op["num_bad"] == 2
    assert op["errors"] == [{"id": 100051, "msg": "cancelled"}, {"id": 100052, "msg": "cancelled"}]
    poll(lambda: api.op(running)["is_started"])
    assert api.call("DELETE", f"/ops/{running}").status_code == 409
    assert api.call("DELETE", "/ops/999").status_code == 404
    api.finished(running)
    assert api.call("GET", "/imgs/100051").status_code == 200


# --- knobs ----------------------------------------------------------------------------------


def test_injected_429_carries_retry_after(server: SandboxServer, api: Api) -> None:
    server.settings.rate_429 = 1.0
    server.settings.retry_after = 7
    response = api.call("GET", "/imgs")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"detail": "Too Many Requests"}
    assert api.call("POST", "/imgs/x", json={"src": "s"}).status_code == 429
    assert api.call("GET", "/_sandbox/settings").status_code == 200  # never on /_sandbox
    assert requests.get(server.url + "/thumbs/1.svg", timeout=TIMEOUT).status_code == 200
    server.settings.rate_429 = 0.0
    assert api.call("GET", "/ops").json() == []  # the rejected write created nothing


def test_injected_503_and_partial_rates(server: SandboxServer, api: Api) -> None:
    server.settings.rate_5xx = 1.0
    response = api.call("GET", "/ops")
    assert response.status_code == 503
    assert response.json() == {"detail": "Service Unavailable"}
    server.settings.rate_5xx = 0.5
    statuses = Counter(api.call("GET", "/imgs", params={"limit": 1}).status_code for _ in range(40))
    assert set(statuses) == {200, 503}


def test_latency_delays_the_answer_after_the_op_is_created(server: SandboxServer, api: Api) -> None:
    server.settings.latency_ms = 800
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.delete(
            server.url + "/imgs/100060",
            headers={"API-Key": server.settings.api_key},
            timeout=(2, 0.2),
        )
    server.settings.latency_ms = 150
    started = time.monotonic()
    listed = api.call("GET", "/ops").json()
    assert time.monotonic() - started >= 0.15
    assert [op["op_id"] for op in listed] == [1]


def test_stats_count_requests_by_route_template(server: SandboxServer, api: Api) -> None:
    server.state.reset_stats()
    api.call("GET", "/imgs")
    api.call("GET", "/imgs/100001")
    api.call("GET", img_path("a b"))
    api.call("GET", "/ops/1")
    requests.get(server.url + "/imgs", timeout=TIMEOUT)  # 401 counts too
    server.settings.rate_429 = 1.0
    api.call("GET", "/imgs")
    stats = server.state.stats
    assert stats["GET /imgs"] == 3
    assert stats["GET /imgs/{image_id}"] == 2
    assert stats["GET /ops/{op_id}"] == 1
    assert api.call("GET", "/_sandbox/stats").json() == dict(stats)
    assert api.call("POST", "/_sandbox/stats/reset").status_code == 200
    assert server.state.stats == Counter()


def test_settings_endpoint_reads_and_patches_knobs(server: SandboxServer, api: Api) -> None:
    current = api.call("GET", "/_sandbox/settings").json()
    assert "api_key" not in current and current["item_ms"] == 20
    patched = api.call("PATCH", "/_sandbox/settings", json={"item_ms": 5, "fail_rate": 0.25})
    assert patched.status_code == 200
    assert patched.json()["item_ms"] == 5 and server.settings.fail_rate == 0.25
    bad = (
        {"api_key": "x"},
        {"item_ms": "fast"},
        {"item_ms": -0.5},
        {"fail_rate": 2},
        {"latency_ms": True},
        {"start_ms": 0.5},
    )
    for body in bad:
        assert api.call("PATCH", "/_sandbox/settings", json=body).status_code == 422
    assert requests.get(server.url + "/_sandbox/stats", timeout=TIMEOUT).status_code == 401
    assert server.settings.item_ms == 5
    # A fraction of a millisecond per element: an API as fast as a real bulk backend.
    fraction = api.call("PATCH", "/_sandbox/settings", json={"item_ms": 0.1})
    assert fraction.status_code == 200 and server.settings.item_ms == 0.1


# --- thumbnails and odd ids -----------------------------------------------------------------


def test_thumbnails_are_deterministic_svg_served_without_key(
    server: SandboxServer, api: Api
) -> None:
    image = api.search(limit=1)["results"][0]
    assert image["url_img_thumbnail"] == f"{server.url}/thumbs/100001.svg"
    response = requests.get(image["url_img_thumbnail"], timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    again = requests.get(image["url_img_thumbnail"], timeout=TIMEOUT)
    assert again.content == response.content
    other = requests.get(f"{server.url}/thumbs/100002.svg", timeout=TIMEOUT)
    assert other.content != response.content


def test_ids_with_spaces_hash_question_mark_and_unicode(server: SandboxServer, api: Api) -> None:
    odd = "a b#c?d&é<ü>"
    add = api.call("POST", img_path(odd), params={"wait": "true"}, json={"src": "s"})
    assert add.json()["all_good"] is True
    image = api.call("GET", img_path(odd)).json()
    assert image["image_id"] == odd
    assert image["url_img_thumbnail"] == f"{server.url}/thumbs/{quote(odd, safe='')}.svg"
    svg = requests.get(image["url_img_thumbnail"], timeout=TIMEOUT)
    assert svg.status_code == 200
    ET.fromstring(svg.content)  # the id is XML-escaped
    assert api.ids(f"id={odd}") == [odd]
    strict = api.call(
        "DELETE", "/imgs", params={"wait": "true", "strict": "true"}, json=[odd, "ünï"]
    ).json()
    assert strict["errors"] == [{"id": "ünï", "msg": "image not found"}]
    assert api.call("GET", img_path(odd)).status_code == 404


def test_seed_is_deterministic_and_varied() -> None:
    images = demo_images(2000, seed=7)
    assert images == demo_images(2000, seed=7)
    assert images != demo_images(2000, seed=8)
    assert images[0]["image_id"] == "100001"
    ai_share = sum(i["ai_generated"] for i in images) / len(images)
    nsfw_share = sum(i["nsfw"] for i in images) / len(images)
    assert 0.1 < ai_share < 0.2 and 0.01 < nsfw_share < 0.05
    assert {i["date"][:4] for i in images} == {str(year) for year in range(2015, 2027)}
    for field in ("title", "headline", "caption", "city", "country", "author", "status"):
        assert len({i[field] for i in images}) > 3, field


def test_hold_keeps_operations_queued_until_released(server: SandboxServer, api: Api) -> None:
    assert api.call("PATCH", "/_sandbox/settings", json={"hold": True}).json()["hold"] is True
    op_ids = [api.call("DELETE", img_path(str(100001 + n))).json()["op_id"] for n in range(3)]
    time.sleep(0.2)  # several start delays: nothing may start while held
    assert not any(api.op(op_id)["is_started"] for op_id in op_ids)
    assert api.call("PATCH", "/_sandbox/settings", json={"hold": 1}).status_code == 422
    api.call("PATCH", "/_sandbox/settings", json={"hold": False})
    assert all(api.finished(op_id)["num_good"] == 1 for op_id in op_ids)
