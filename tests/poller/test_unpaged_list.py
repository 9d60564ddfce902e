"""The poller against an API that does not page `GET /ops` (the reference's bare array)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import cycle_until
from tests.poller.test_refresh import FAST, row
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import upstream

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


@pytest.fixture
def dialect() -> str:
    """Only what the reference documents."""
    return "reference"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling, pages of ten operations."""
    return {**FAST, "WESOG_LIST_PAGE_SIZE": 10}


def test_an_api_without_paging_is_read_in_one_list_call(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    client = upstream(app).client()
    sandbox.settings.start_ms = 60_000  # both stay queued
    first = client.delete_image("100001").op_id
    sandbox.state.bulk_ops(25, "del", "finished", 1)  # 25 ended operations in between
    last = client.delete_image("100002").op_id
    poller.run_once()  # discovery reads the list: every operation, whatever page was asked
    assert client.capabilities.ops_paged is False
    assert row(app, first) is not None and row(app, last) is not None
    app.config["WESOG_DISCOVER"] = False  # from now on the list is read only to refresh
    sandbox.state.reset_stats()
    # Paged, 27 operations are three pages of ten for two unfinished ones: two calls by id
    # would be cheaper. The bare array holds them all in one call.
    stats = cycle_until(poller, lambda: (s := sandbox.state.stats)["GET /ops"] and s)
    assert stats["GET /ops/{op_id}"] == 0
