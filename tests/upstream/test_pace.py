"""The adaptive pace against the real sandbox: it rises on a fast API, falls on a 429-ing or a
slowing one, and never goes above its maximum."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import AuthActions
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.upstream import Budget, upstream
from wesog_dash.upstream.pace import CUT_5XX, CUT_429, CUT_SLOW, MAXIMUM, RISING
from wesog_dash.wesog import WesogClient, WesogRateLimited, WesogUnavailable


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A quick sandbox."""
    return SandboxSettings(api_key="test-key-5f3a", images=20, item_ms=0, start_ms=0)


def paced(sandbox: SandboxServer, start: float, ceiling: float) -> tuple[WesogClient, Budget]:
    """A client whose calls go through a budget starting at `start` calls per second."""
    budget = Budget(ceiling, start=start)
    return WesogClient(sandbox.url, sandbox.settings.api_key, gate=budget), budget


def reads(client: WesogClient, count: int) -> int:
    """`count` image reads back to back (as background work); returns how many got a 429."""
    refused = 0
    for _ in range(count):
        try:
            client.get_image("100001")
        except WesogRateLimited:
            refused += 1
    return refused


def test_the_pace_rises_while_a_fast_api_answers(sandbox: SandboxServer) -> None:
    client, budget = paced(sandbox, start=10, ceiling=200)
    reads(client, 60)
    now = budget.pace_now()
    assert now.per_second > 20, "slow start: one more call per second for every answer"
    assert now.reason in (RISING, MAXIMUM)


def test_the_pace_never_goes_above_its_maximum(sandbox: SandboxServer) -> None:
    client, budget = paced(sandbox, start=10, ceiling=15)
    reads(client, 40)
    assert budget.pace_now().per_second == 15
    assert budget.pace_now().reason == MAXIMUM
    assert max(rate for _, rate, _ in budget.pace.history) <= 15


def test_a_429_cuts_the_pace_in_half_at_once_and_its_retry_after_pauses(
    sandbox: SandboxServer,
) -> None:
    sandbox.settings.max_calls_per_second = 20
    client, budget = paced(sandbox, start=10, ceiling=200)
    refused = reads(client, 80)
    assert refused >= 1
    cuts = [i for i, (_, _, why) in enumerate(budget.pace.history) if why == CUT_429]
    assert cuts, "the 429 cut the pace"
    before, after = budget.pace.history[cuts[0] - 1][1], budget.pace.history[cuts[0]][1]
    assert after <= before / 2 + 1
    assert refused <= 4, f"{refused} of 80 calls refused: the pace learned the limit"


def test_slower_answers_cut_the_pace(sandbox: SandboxServer) -> None:
    client, budget = paced(sandbox, start=10, ceiling=200)
    reads(client, 30)
    risen = budget.pace_now().per_second
    sandbox.settings.latency_ms = 400  # answers suddenly much slower than usual
    reads(client, 1)
    assert budget.pace_now().reason == CUT_SLOW
    assert budget.pace_now().per_second <= risen / 2 + 1


def test_a_503_cuts_the_pace(sandbox: SandboxServer) -> None:
    client, budget = paced(sandbox, start=10, ceiling=200)
    reads(client, 30)
    risen = budget.pace_now().per_second
    sandbox.settings.rate_5xx = 1.0
    with pytest.raises(WesogUnavailable):
        client.get_image("100001")
    assert budget.pace_now().reason == CUT_5XX
    assert budget.pace_now().per_second <= risen / 2 + 1


@pytest.mark.parametrize("app_overrides", [{"WESOG_METRICS": True}])
def test_the_pollers_pace_and_why_show_on_ops_and_in_metrics(
    app: Flask, client: Any, auth: AuthActions, poller: Any
) -> None:
    auth.login("viewer")
    assert "pace-line" not in client.get("/ops").get_data(as_text=True), "no poller yet"
    poller.run_once()
    page = client.get("/ops").get_data(as_text=True)
    assert "Calls to the Wesog API: 10 per second — starting pace" in page
    body = client.get("/metrics").get_data(as_text=True)
    assert 'wesog_upstream_pace_calls_per_second{reason="pace_start"} 10.0' in body
    upstream(app).budget.pace.refused(CUT_429)
    poller.run_once()
    page = client.get("/ops").get_data(as_text=True)
    assert "5 per second — cut: the API answered 429 (too many requests)" in page
