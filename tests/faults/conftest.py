"""The fault suite's harness: deletions through the real services against the sandbox, and a
verdict per fault checked against the API's real state (`GET /imgs/{id}`, `/_sandbox/stats`).

Each test adds one row to the fault table (fault → deletions, final states, lost, sent twice,
false outcomes); it is printed after the run and, with WESOG_FAULT_TABLE=path, written as
JSON (what `bench/faults.py` reads).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import FAST_POLLING, wait_for
from wesog_dash import deletions
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

TABLE: list[dict[str, Any]] = []
SINGLE = "DELETE /imgs/{image_id}"
BATCH = "DELETE /imgs"


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Quick operations; a test slows them down when it needs a window."""
    return SandboxSettings(api_key="fault-key-7c1d", images=60, item_ms=20, start_ms=20)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick cycles, no reconcile grace, short send timeout, lost after half a second."""
    return {
        **FAST_POLLING,
        "WESOG_POLL_MAX_BACKOFF": 0.5,
        "WESOG_RECONCILE_GRACE": 0.0,
        "WESOG_SYNC_SEND_TIMEOUT": 0.5,
        "WESOG_LOST_AFTER": 0.5,
    }


@dataclass
class Row:
    """One line of the fault table."""

    fault: str
    deletions: int = 0
    final_states: dict[str, int] = field(default_factory=dict)
    inferred: int = 0
    lost: int = 0
    sent_twice: int = 0
    false_outcomes: int = 0


class Harness:
    """Requests deletions, arms faults, runs the poller, and judges the end states."""

    def __init__(self, app: Flask, sandbox: SandboxServer, poller: Poller) -> None:
        self.app, self.sandbox, self.poller = app, sandbox, poller
        self.ids: list[int] = []
        self.http = requests.Session()
        self.http.headers["API-Key"] = sandbox.settings.api_key

    def knobs(self, **settings: Any) -> None:
        """Set sandbox knobs (one-shot faults such as `reset_before_create=1`) over HTTP."""
        answer = self.http.patch(f"{self.sandbox.url}/_sandbox/settings", json=settings, timeout=5)
        assert answer.status_code == 200, answer.text

    def delete(self, image_ids: list[str], **options: Any) -> int:
        """Ask for a deletion through the service (one id: sent inside the call)."""
        with self.app.app_context():
            deletion = deletions.request_deletion(
                image_ids,
                deletions.DeletionOptions("fault suite", **options),
                deletions.Requester("alice"),
            )
            self.ids.append(deletion.id)
            return deletion.id

    def state(self, deletion_id: int) -> str:
        """A deletion's current state."""
        with self.app.app_context():
            row = db.session.get(DeletionRequest, deletion_id)
            assert row is not None
            return row.state

    def items(self, deletion_id: int) -> list[dict[str, Any]]:
        """A deletion's items as plain dicts."""
        with self.app.app_context():
            return [
                {
                    "image_id": i.image_id,
                    "outcome": i.outcome,
                    "inferred": i.inferred,
                    "op_id": i.op_id,
                    "message": i.message,
                }
                for i in deletions.items_of(deletion_id)
            ]

    def settle(self, timeout: float = 20.0) -> None:
        """Run poller cycles until every deletion of the test is final."""

        def all_final() -> bool:
            self.poller.run_once()
            return all(self.state(i) in FINAL_DELETION_STATES for i in self.ids)

        wait_for(all_final, timeout=timeout)

    def present(self, image_id: str) -> bool:
        """The API's real state: does `GET /imgs/{id}` find the image?"""
        answer = self.http.get(f"{self.sandbox.url}/imgs/{image_id}", timeout=5)
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 200

    def sends(self) -> int:
        """DELETE calls the sandbox received (single and batch)."""
        stats = self.http.get(f"{self.sandbox.url}/_sandbox/stats", timeout=5).json()
        return int(stats.get(SINGLE, 0)) + int(stats.get(BATCH, 0))

    def false_outcomes(self) -> list[dict[str, Any]]:
        """Items whose outcome the API's real state contradicts."""
        wrong = []
        for deletion_id in self.ids:
            for item in self.items(deletion_id):
                present = self.present(item["image_id"])
                claims_gone = {"deleted": True, "not_found": True, "failed": False}
                claim = claims_gone.get(item["outcome"])  # pending/unknown claim nothing
                if claim is not None and claim == present:
                    wrong.append(item)
        return wrong

    def verdict(self, fault: str, resent_allowed: int = 0) -> Row:
        """Judge the end state, record the table row, and assert the suite's promises."""
        states = Counter(self.state(i) for i in self.ids)
        lost = sum(n for state, n in states.items() if state not in FINAL_DELETION_STATES)
        inferred = sum(item["inferred"] for i in self.ids for item in self.items(i))
        wrong = self.false_outcomes()
        sent_twice = max(0, self.sends() - len(self.ids) - resent_allowed)
        row = Row(fault, len(self.ids), dict(states), inferred, lost, sent_twice, len(wrong))
        TABLE.append(asdict(row))
        assert wrong == [], wrong
        assert lost == 0 and sent_twice == 0, row
        return row


@pytest.fixture
def harness(app: Flask, sandbox: SandboxServer, poller: Poller) -> Iterator[Harness]:
    """The harness on the test's app, sandbox and poller."""
    sandbox.state.reset_stats()
    helper = Harness(app, sandbox, poller)
    yield helper
    helper.http.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the fault table for bench/faults.py when asked to."""
    path = os.environ.get("WESOG_FAULT_TABLE")
    if path and TABLE:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(TABLE, out, indent=1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault table after the run."""
    if not TABLE:
        return
    terminalreporter.section("fault table")
    for row in TABLE:
        terminalreporter.line(
            f"{row['fault']:<44} deletions={row['deletions']} states={row['final_states']} "
            f"inferred={row['inferred']} lost={row['lost']} sent_twice={row['sent_twice']} "
            f"false={row['false_outcomes']}"
        )
