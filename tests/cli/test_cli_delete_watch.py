"""`flask wesog delete` and `flask wesog watch` against the real sandbox and the database."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING
from wesog_dash.cli.follow import Rate
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionItem, DeletionRequest
from wesog_dash.sandbox import SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

WATCH = ["--poll", "--interval", "0.05", "--timeout", "60"]


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; a poller runs elsewhere (`external`), so `watch` runs one by default."""
    return {**FAST_POLLING, "WESOG_POLLER": "external"}


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A sandbox that processes elements at once."""
    return SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0)


def deletion_rows(app: Flask) -> list[DeletionRequest]:
    """Every deletion request written so far."""
    with app.app_context():
        return list(db.session.scalars(select(DeletionRequest)))


def delete(runner, *args: str, **kwargs: Any) -> Any:
    """Run `flask wesog delete …`."""
    return runner.invoke(args=["wesog", "delete", *args], **kwargs)


def test_delete_shows_what_will_be_sent_and_asks_first(app: Flask, runner) -> None:
    refused = delete(runner, "100001", "100002", "--reason", "ticket 7", input="n\n")
    assert refused.exit_code == 1
    assert "About to delete 2 images: 100001, 100002" in refused.output
    assert "reason: ticket 7" in refused.output and "Nothing was sent" in refused.output
    assert deletion_rows(app) == []
    accepted = delete(runner, "100001", "100002", "--reason", "ticket 7", "--urgent", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    [row] = deletion_rows(app)
    assert row.item_count == 2 and row.do_urgent and row.actor.startswith("cli:")
    assert f"wesog watch {row.id}" in accepted.output


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=3000, item_ms=0, start_ms=0)],
)
def test_delete_a_3000_id_file_in_one_command_and_watch_it_end(
    app: Flask, runner, tmp_path: Path
) -> None:
    ids = [str(100001 + n) for n in range(3000)]  # images that exist: "deleted", not "not found"
    ids_file = tmp_path / "ticket.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    args = ["--ids-file", str(ids_file), "--reason", "takedown T-3000", "--yes", "--json"]
    result = delete(runner, *args, "--watch")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    created = json.loads(lines[0])
    assert created["item_count"] == 3000 and created["selection_kind"] == "list"
    assert "sent as 3 operations" in result.stderr
    final = json.loads(lines[-1])
    assert final["id"] == created["id"] and final["state"] == "done" and final["exit_code"] == 0
    assert final["good"] == 3000 and final["total"] == 3000
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(DeletionItem))
        assert count == 3000
        actors = db.session.scalars(select(AuditEvent.actor).where(AuditEvent.deletion_id == 1))
        assert {a for a in actors if a != "system"} <= {created["actor"]}


def test_delete_needs_exactly_one_source_of_ids(runner, tmp_path: Path) -> None:
    assert delete(runner, "--reason", "x", "--yes").exit_code == 2
    (tmp_path / "f").write_text("100001\n")
    both = delete(runner, "100002", "--ids-file", str(tmp_path / "f"), "--reason", "x")
    assert both.exit_code == 2 and "one way" in both.output
    bad = delete(runner, "bad/id", "--reason", "x", "--yes")
    assert bad.exit_code == 1 and "bad/id" in bad.output


def test_delete_by_query_resolves_the_formula(app: Flask, runner) -> None:
    result = delete(runner, "--query", "id<100004", "--reason", "early", "--yes", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["selection_query"] == "id<100004"
    assert sorted(i["image_id"] for i in created["items"]) == ["100001", "100002", "100003"]


def test_watch_exits_0_when_everything_was_deleted(runner) -> None:
    created = json.loads(
        delete(runner, "100001", "100002", "--reason", "r", "--yes", "--json").stdout
    )
    result = runner.invoke(args=["wesog", "watch", str(created["id"]), "--json", *WATCH])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["state"] == "pending" and records[-1]["state"] == "done"
    assert records[-1]["final"] is True and records[-1]["good"] == 2
    # One line per change: of state, counts or message (a chunk's "preparing" becoming "on
    # its way" is a change of message within `sending`), never the same line twice in a row.
    shown = [(r["state"], r["good"], r["failed"], r["total"], r["message"]) for r in records]
    assert all(a != b for a, b in pairwise(shown)), shown


def test_watch_exits_1_when_some_items_failed(runner, sandbox) -> None:
    sandbox.settings.fail_rate = 1.0
    created = json.loads(
        delete(runner, "100003", "100004", "--reason", "r", "--yes", "--json").stdout
    )
    result = runner.invoke(args=["wesog", "watch", str(created["id"]), *WATCH])
    assert result.exit_code == 1, result.output
    assert "2 failed" in result.output and "done with errors" in result.output


@pytest.mark.parametrize("app_overrides", [{**FAST_POLLING, "WESOG_API_KEY": "wrong-key"}])
def test_watch_exits_5_when_the_deletion_was_rejected(runner) -> None:
    created = json.loads(
        delete(runner, "100005", "100006", "--reason", "r", "--yes", "--json").stdout
    )
    result = runner.invoke(args=["wesog", "watch", str(created["id"]), *WATCH])
    assert result.exit_code == 5, result.output  # 2 is a usage error
    assert "refused by the Wesog API" in result.output and "wrong-key" not in result.output


def test_watch_an_operation_and_unknown_ids(app: Flask, runner) -> None:
    created = json.loads(delete(runner, "100007", "--reason", "r", "--yes", "--json").stdout)
    [op_id] = created["op_ids"]  # a single id is sent at once
    result = runner.invoke(args=["wesog", "watch", "--op", str(op_id), *WATCH])
    assert result.exit_code == 0, result.output
    assert f"operation {op_id}: 1 good / 0 failed / 1 total" in result.output
    assert runner.invoke(args=["wesog", "watch", "999", "--no-poll"]).exit_code == 4
    assert runner.invoke(args=["wesog", "watch"]).exit_code == 2


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_delete_is_refused_while_read_only(app: Flask, runner) -> None:
    result = delete(runner, "100001", "--reason", "r", "--yes")
    assert result.exit_code == 1 and "read-only" in result.output
    assert deletion_rows(app) == []


def test_the_rate_and_eta_of_the_bar() -> None:
    rate = Rate(window=10)
    assert rate.per_second() is None and rate.eta(10) is None
    rate.add(0, now=100.0)
    rate.add(20, now=104.0)
    assert rate.per_second() == 5.0 and rate.eta(30) == 6.0 and rate.eta(0) == 0.0
    rate.add(20, now=120.0)  # older points leave the window: nothing moved lately
    assert rate.per_second() == 0.0 and rate.eta(30) is None
