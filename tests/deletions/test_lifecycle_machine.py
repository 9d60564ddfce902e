"""The deletion life cycle driven by hypothesis against the sandbox (tests/deletions/machine.py),
bounded for `make test`: a fixed seed, a few examples of a few dozen steps. bench/lifecycle.py
runs the same machine long."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.deletions.machine import Tally, machine_for
from tests.deletions.test_deletions import FAST
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

BOUNDED = settings(
    max_examples=10,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,  # a fixed seed: the same runs every time
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 4 ids, two operations in flight: several chunks per deletion."""
    return {**FAST, "WESOG_CHUNK_SIZE": 4, "WESOG_MAX_INFLIGHT_OPS": 2}


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=2000, item_ms=0, start_ms=0, fail_rate=0.2)],
)
def test_what_a_person_reads_matches_what_the_sandbox_did_after_every_step(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    tally = Tally()
    run_state_machine_as_test(machine_for(app, sandbox, poller, tally), settings=BOUNDED)
    assert tally.steps > 50 and tally.checks > tally.steps
    assert tally.answers["cancel: done"] and tally.answers["pause: done"]
    assert tally.answers["resume: done"]
