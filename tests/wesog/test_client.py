"""WesogClient against the real sandbox over loopback HTTP: every endpoint, every typed error."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import wait_for
from wesog_dash.sandbox import SandboxServer
from wesog_dash.wesog import (
    OperationSnapshot,
    WesogAuthError,
    WesogClient,
    WesogNotFound,
    WesogOutcomeUnknown,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)

# Integration tests that depend on the API's shape run in both dialects of the sandbox.
pytestmark = pytest.mark.both_dialects


@pytest.fixture
def client(sandbox: SandboxServer) -> WesogClient:
    return WesogClient(sandbox.url, sandbox.settings.api_key, timeout=(3.05, 5))


def finished(client: WesogClient, op_id: int, timeout: float = 10) -> OperationSnapshot:
    """Poll until the operation has finished."""
    return wait_for(lambda: (op := client.get_operation(op_id)).is_finished and op, timeout=timeout)


def test_search_returns_a_typed_page(client: WesogClient) -> None:
    page = client.search_images(limit=5)
    assert len(page.results) == 5
    assert page.count == 60
    assert page.has_next
    first = page.results[0]
    assert first.image_id and first.title
    assert first.thumbnail_url.endswith(".svg")


def test_search_pages_do_not_overlap(client: WesogClient) -> None:
    one = {img.image_id for img in client.search_images(page=1, limit=10).results}
    two = {img.image_id for img in client.search_images(page=2, limit=10).results}
    assert len(one) == len(two) == 10
    assert not one & two


def test_search_filters_with_the_q_formula(client: WesogClient) -> None:
    page = client.search_images(q="id<=100005")
    assert sorted(img.image_id for img in page.results) == [f"10000{i}" for i in range(1, 6)]


def test_a_formula_the_api_rejects_is_a_validation_error(client: WesogClient) -> None:
    with pytest.raises(WesogValidationError) as caught:
        client.search_images(q="id=((1")
    assert caught.value.status == 422
    assert caught.value.message


def test_get_image_and_missing_image(client: WesogClient) -> None:
    assert client.get_image("100001").image_id == "100001"
    with pytest.raises(WesogNotFound):
        client.get_image("no-such-image")


def test_wrong_key_is_an_auth_error_that_does_not_show_the_key(sandbox: SandboxServer) -> None:
    bad = WesogClient(sandbox.url, "wrong-key-zz9")
    with pytest.raises(WesogAuthError) as caught:
        bad.search_images()
    assert caught.value.status == 401
    assert "wrong-key-zz9" not in str(caught.value)
    assert "wrong-key-zz9" not in repr(bad)


def test_async_delete_goes_queued_started_finished(client: WesogClient) -> None:
    op = client.delete_image("100001")
    assert op.op_id is not None
    assert op.method == "del" and op.resource == "image"
    assert not op.is_finished and op.all_good is None and op.num_total == 1
    done = finished(client, op.op_id)
    assert done.op_id == op.op_id
    assert done.is_started and done.all_good is True and done.num_good == 1
    assert done.started_at and done.finished_at and done.created_at
    assert done.started_at >= done.created_at and done.finished_at >= done.started_at
    assert done.idle_ms > 0 and done.exec_ms > 0
    with pytest.raises(WesogNotFound):
        client.get_image("100001")


def test_wait_true_blocks_until_the_operation_finished(client: WesogClient) -> None:
    op = client.delete_image("100002", wait=True)
    assert op.is_finished and op.do_wait and op.num_good == 1 and op.op_id


def test_strict_delete_of_a_missing_id_fails_the_item(client: WesogClient) -> None:
    op = client.delete_image("missing-1", wait=True, strict=True)
    assert op.num_bad == 1 and op.all_good is False and op.do_strict
    assert op.errors[0].id == "missing-1" and "not found" in op.errors[0].msg


def test_relaxed_delete_of_a_missing_id_is_a_no_op_success(client: WesogClient) -> None:
    op = client.delete_image("missing-2", wait=True)
    assert op.num_good == 1 and op.num_bad == 0 and op.all_good is True and not op.errors


def test_batch_delete_reports_per_item_errors(client: WesogClient) -> None:
    op = client.delete_images(["100003", "100004", "gone"], strict=True, wait=True)
    assert (op.num_total, op.num_good, op.num_bad) == (3, 2, 1)
    assert [e.id for e in op.errors] == ["gone"]


def test_batch_add_then_read_an_id_that_needs_encoding(client: WesogClient) -> None:
    odd_id = "summer 2024 #1?x=ü"
    op = client.add_images([{"id": odd_id, "src": "https://example.com/a.jpg", "title": "Odd"}])
    finished(client, op.op_id)
    assert client.get_image(odd_id).title == "Odd"
    gone = client.delete_image(odd_id, wait=True, strict=True)
    assert gone.num_good == 1


@pytest.mark.parametrize("bad_id", ["a/b", "tab\there", "x" * 257, "", ".."])
def test_unsendable_ids_are_refused_before_sending(
    client: WesogClient, sandbox: SandboxServer, bad_id: str
) -> None:
    sandbox.state.reset_stats()
    with pytest.raises(WesogValidationError):
        client.delete_image(bad_id)
    assert sum(sandbox.state.stats.values()) == 0


def test_list_operations_newest_first(client: WesogClient) -> None:
    first = client.delete_image("100005")
    second = client.delete_image("100006")
    ops = client.list_operations()
    ids = [op.op_id for op in ops]
    assert ids.index(second.op_id) < ids.index(first.op_id)


def test_urgent_operation_overtakes_queued_ones(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    sandbox.settings.item_ms = 150
    normal = [client.delete_images([f"1000{n}"]) for n in (10, 11, 12)]
    urgent = client.delete_image("100013", urgent=True)
    assert urgent.do_urgent
    done_urgent = finished(client, urgent.op_id)
    last_normal = finished(client, normal[-1].op_id)
    assert done_urgent.started_at < last_normal.started_at


def test_rate_limit_carries_retry_after(client: WesogClient, sandbox: SandboxServer) -> None:
    sandbox.settings.rate_429 = 1.0
    sandbox.settings.retry_after = 7
    with pytest.raises(WesogRateLimited) as caught:
        client.get_operation(1)
    assert caught.value.retry_after == 7


def test_server_errors_are_retried_for_reads_only(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    sandbox.settings.rate_5xx = 1.0
    sandbox.state.reset_stats()
    with pytest.raises(WesogUnavailable):
        client.search_images()
    assert sandbox.state.stats["GET /imgs"] == 3  # one try plus two retries
    with pytest.raises(WesogUnavailable):
        client.delete_image("100020")
    assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 1  # a write is never re-sent


def test_a_timeout_after_sending_is_an_unknown_outcome(
    sandbox: SandboxServer,
) -> None:
    impatient = WesogClient(sandbox.url, sandbox.settings.api_key, timeout=(3.05, 0.2))
    sandbox.settings.latency_ms = 600
    with pytest.raises(WesogOutcomeUnknown):
        impatient.delete_image("100030")
    sandbox.settings.latency_ms = 0
    ops = impatient.list_operations()
    assert ops and ops[0].num_total == 1  # the API did receive it


def test_an_unreachable_api_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(WesogUnavailable) as caught:
        WesogClient(f"http://127.0.0.1:{port}", "k", timeout=(0.5, 10.0)).delete_image("x")
    assert not isinstance(caught.value, WesogOutcomeUnknown)
    assert time.monotonic() - started < 5
