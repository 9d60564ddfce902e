"""`DELETE /ops/{op_id}` through the client: a typed result for each answer of the sandbox."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.wesog import WesogClient


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A worker that starts nothing (`hold`): operations stay queued until released."""
    return SandboxSettings(api_key="test-key-5f3a", images=20, item_ms=0, start_ms=0, hold=True)


@pytest.fixture
def client(sandbox: SandboxServer) -> WesogClient:
    return WesogClient(sandbox.url, sandbox.settings.api_key, timeout=(3.05, 5))


def test_a_queued_operation_is_cancelled(client: WesogClient, sandbox: SandboxServer) -> None:
    op = client.delete_images(["100001", "100002"])
    result = client.cancel_operation(op.op_id or 0)
    assert result.cancelled and result.operation is not None
    assert result.operation.is_finished and result.operation.num_bad == 2
    assert sandbox.state.get_image("100001") is not None


def test_a_started_operation_is_too_late(client: WesogClient, sandbox: SandboxServer) -> None:
    sandbox.settings.item_ms, sandbox.settings.hold = 2000, False
    sandbox.state.wake()
    op = client.delete_images(["100003", "100004"])
    wait_for(lambda: client.get_operation(op.op_id or 0).is_started)
    result = client.cancel_operation(op.op_id or 0)
    assert result.outcome == "started" and not result.cancelled
    assert "already started" in result.message


def test_an_api_without_cancel_is_unsupported(client: WesogClient, sandbox: SandboxServer) -> None:
    sandbox.settings.cancel_supported = False
    op = client.delete_image("100005")
    result = client.cancel_operation(op.op_id or 0)
    assert (result.outcome, result.message) == (
        "unsupported",
        "This Wesog API cannot cancel operations",
    )
