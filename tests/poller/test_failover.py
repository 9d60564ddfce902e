"""Failover between real poller processes (`flask --app app wesog poll`) on PostgreSQL.

Two pollers share one database and one sandbox; the lease holder is SIGKILLed, or SIGSTOPped
past its lease TTL and SIGCONTinued, while deletions run. The stand-by takes over within the
TTL, every deletion ends recorded, nothing is sent upstream twice, and a holder that lost
its lease sends nothing and commits nothing once it was taken over.

Who did what is measured, not assumed: each poller reaches the sandbox under its own Host
name (recorded by the sandbox app per request), and connects to PostgreSQL under its own
session setting `failover.poller`, which a deferred trigger writes next to every row committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.pool import NullPool

from tests.conftest import request_deletion, wait_for
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionItem, DeletionRequest, Lease
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.postgresql_only

ROOT = Path(__file__).resolve().parents[2]
TTL = 2.0  # WESOG_LEASE_TTL of the pollers under test (the default is 10 s)
MARGIN = 6.0  # seconds of slack on a heavily loaded machine
DELETIONS, IDS_EACH = 20, 2  # 20 requests of 2 ids: bulk, so the dispatcher sends them
BATCH = "DELETE /imgs"
THREADS = 4 + 2  # a poller's pool (WESOG_POLL_CONCURRENCY) and its long senders
HOSTS = ("127.0.0.1", "localhost")  # the sandbox tells the two pollers apart by Host
WRITE_LOG = """
CREATE TABLE failover_writes (
    app text NOT NULL, tbl text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION failover_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO failover_writes (app, tbl)
    VALUES (coalesce(current_setting('failover.poller', true), ''), TG_TABLE_NAME);
    RETURN NULL;
END $$;
"""
# Deferred: it fires at COMMIT (after the fence's check), so `at` is when the row committed.
LOG_TRIGGER = (
    'CREATE CONSTRAINT TRIGGER failover_log AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION failover_log()"
)


BLOCKED = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND cardinality(pg_blocking_pids(pid)) > 0"
)


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Operations that take a few seconds in all (40 images x 60 ms, one at a time)."""
    return SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=60, start_ms=20)


@pytest.fixture
def app_overrides(make_database_url: Any) -> dict[str, Any]:
    """A database of its own (dropped after the test): it gets the write log's trigger."""
    return {"SQLALCHEMY_DATABASE_URI": make_database_url()}


@pytest.fixture
def upstream_calls(sandbox: SandboxServer) -> list[tuple[float, str, str]]:
    """(time, Host, endpoint) of every request the sandbox answers, in order."""
    calls: list[tuple[float, str, str]] = []

    @sandbox.app.before_request
    def record() -> None:
        rule = request.url_rule.rule if request.url_rule else request.path
        calls.append((time.time(), request.host.split(":")[0], f"{request.method} {rule}"))

    return calls


@pytest.fixture
def write_log(app: Flask) -> None:
    """Log every committed row change with its connection's `failover.poller` setting."""
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            connection.exec_driver_sql(WRITE_LOG)
            for table in tables:
                connection.exec_driver_sql(LOG_TRIGGER.format(table=table))
        db.engine.dispose()


class Pollers:
    """Poller processes started by a test; every one still running is killed at the end."""

    def __init__(self, app: Flask, sandbox: SandboxServer, logs: Path) -> None:
        self.app, self.sandbox, self.logs = app, sandbox, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, host: str) -> subprocess.Popen[bytes]:
        """Start `flask --app app wesog poll` as `name`, reaching the sandbox as `host`."""
        url = make_url(self.app.config["SQLALCHEMY_DATABASE_URI"])
        options = f"{url.query.get('options', '')} -c failover.poller={name}".strip()
        url = url.update_query_dict({"options": options})
        env = {
            **os.environ,
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "WESOG_API_URL": f"http://{host}:{self.sandbox.port}",
            "WESOG_API_KEY": self.sandbox.settings.api_key,
            "WESOG_POLLER": "external",
            "SECRET_KEY": "failover-test",
            "WESOG_LEASE_TTL": str(TTL),
            "WESOG_POLL_INTERVAL": "0.1",
            "WESOG_QUEUED_POLL_INTERVAL": "0.1",
            "WESOG_CONNECT_TIMEOUT": "1",
            "WESOG_READ_TIMEOUT": "3",
            "WESOG_RECONCILE_GRACE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "wesog", "poll"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def output(self, name: str) -> str:
        """What poller `name` printed so far."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def holder(self) -> tuple[str, int] | None:
        """(name of the poller holding a live lease, generation), or None."""
        with self.app.app_context():
            lease = db.session.execute(
                select(Lease.holder, Lease.generation, Lease.expires_at > text("now()"))
            ).first()
            db.session.rollback()
        if lease is None or not lease[2]:
            return None
        pid = int(lease.holder.split(":")[1])
        names = [name for name, proc in self.procs.items() if proc.pid == pid]
        return (names[0], lease.generation) if names else None

    def close(self) -> None:
        """SIGCONT then SIGKILL every poller still running, and reap it."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def pollers(app: Flask, sandbox: SandboxServer, tmp_path: Path) -> Iterator[Pollers]:
    """Start poller processes with `pollers.start(name, host)`; killed after the test."""
    started = Pollers(app, sandbox, tmp_path)
    try:
        yield started
    finally:
        started.close()


def start_two(pollers: Pollers) -> tuple[str, str]:
    """Start pollers a and b; (the one holding the lease, the stand-by)."""
    pollers.start("poller-a", HOSTS[0])
    pollers.start("poller-b", HOSTS[1])
    holding, _ = wait_for(pollers.holder, timeout=60, interval=0.1)
    other = "poller-b" if holding == "poller-a" else "poller-a"
    return holding, other


def request_all(app: Flask, sandbox: SandboxServer) -> list[int]:
    """20 bulk deletions of 2 distinct images each, committed for the dispatcher."""
    ids = [record.image_id for record in sandbox.state.ordered_images()]
    return [request_deletion(app, ids[n * IDS_EACH : (n + 1) * IDS_EACH]) for n in range(DELETIONS)]


def sent_ops(app: Flask) -> int:
    """Distinct upstream operations the console recorded for its items."""
    with app.app_context():
        found = db.session.scalars(select(DeletionItem.op_id).distinct()).all()
        db.session.rollback()
    return len([op_id for op_id in found if op_id is not None])


def all_final(app: Flask, deletion_ids: list[int]) -> bool:
    """Every deletion reached a final state."""
    with app.app_context():
        states = db.session.scalars(
            select(DeletionRequest.state).where(DeletionRequest.id.in_(deletion_ids))
        ).all()
        db.session.rollback()
    return len(states) == len(deletion_ids) and all(s in FINAL_DELETION_STATES for s in states)


class Item(NamedTuple):
    """What the console recorded for one image."""

    image_id: str
    op_id: int | None
    outcome: str
    inferred: bool


def assert_sent_once_and_recorded(app: Flask, sandbox: SandboxServer, ids: list[int]) -> None:
    """Every request sent at most once (one batch DELETE, one operation, nothing deleted
    twice), and every item recorded as upstream shows it: by its operation, or, when the
    poller that sent it (or only claimed it) died first, inferred from the image's state."""
    ops = {op["op_id"]: op for op in sandbox.state.list_ops() if op["method"] == "del"}
    assert sandbox.state.stats[BATCH] == len(ops)  # one operation per DELETE
    assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 0
    assert [op for op in ops.values() if op["num_bad"] or not op["is_finished"]] == []
    with app.app_context():
        rows = db.session.scalars(select(DeletionRequest)).all()
        assert sorted(r.id for r in rows) == sorted(ids)
        assert {r.state for r in rows} <= set(FINAL_DELETION_STATES)
        items = [Item(i.image_id, i.op_id, i.outcome, i.inferred) for r in rows for i in r.items]
        db.session.rollback()
    sent = [i for i in items if i.op_id is not None]
    assert {i.op_id for i in sent} <= set(ops)  # every recorded operation is real
    gone = [i for i in items if sandbox.state.get_image(i.image_id) is None]
    # Each image deleted upstream was in exactly one operation, and none failed (a second
    # DELETE of a gone image would have failed): nothing was deleted twice.
    assert sum(op["num_total"] for op in ops.values()) == len(gone)
    for item in items:
        present = sandbox.state.get_image(item.image_id) is not None
        if item.op_id is not None:  # answered: the operation's own outcome
            assert (item.outcome, present) == ("deleted", False), item
        else:  # the answer was lost with the poller: settled from upstream's state, inferred
            expected = ("failed", True) if present else ("deleted", True)
            assert (item.outcome, item.inferred) == expected, item
    assert len({i.image_id for i in items}) == len(items) == DELETIONS * IDS_EACH
    assert len(sent) >= len(items) // 2  # most were answered: the dispatcher did the work


def test_sigkill_of_the_holder_fails_over_within_the_ttl_and_sends_nothing_twice(
    app: Flask, sandbox: SandboxServer, pollers: Pollers
) -> None:
    holding, standby = start_two(pollers)
    deletion_ids = request_all(app, sandbox)
    wait_for(lambda: sent_ops(app) >= 3, timeout=60)  # operations run upstream now
    killed_at = time.monotonic()
    pollers.procs[holding].send_signal(signal.SIGKILL)
    pollers.procs[holding].wait(timeout=30)

    wait_for(lambda: (pollers.holder() or ("",))[0] == standby, timeout=TTL + MARGIN)
    took_over = time.monotonic() - killed_at
    assert took_over <= TTL + MARGIN

    wait_for(lambda: all_final(app, deletion_ids), timeout=90, interval=0.1)
    assert_sent_once_and_recorded(app, sandbox, deletion_ids)
    assert pollers.procs[standby].poll() is None  # the survivor still runs
    print(f"takeover {took_over:.2f} s after SIGKILL (lease TTL {TTL} s)")


def write_time(app: Flask, name: str, table: str | None = None, first: bool = False) -> Any:
    """When the poller `name` last (or first) committed a row (of `table`), database clock."""
    query = f"SELECT {'min' if first else 'max'}(at) FROM failover_writes WHERE app = :app"
    query += " AND tbl = :tbl" if table else ""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(text(query), {"app": name, "tbl": table})
    engine.dispose()
    return found


def wait_for_takeover(app: Flask, pollers: Pollers) -> Any:
    """The lease's (holder, generation) once a live poller holds it again.

    Strict: a holder stopped inside a transaction that locks the lease row (its renewal, or
    the fence's FOR SHARE read at a commit) has that transaction ended by PostgreSQL after
    WESOG_POLLER_IDLE_TX_TIMEOUT (a third of the TTL), so it cannot block the takeover."""
    try:
        return wait_for(pollers.holder, timeout=TTL + MARGIN, interval=0.1)
    except AssertionError:
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
        with engine.connect() as connection:
            blocked = connection.scalar(text(BLOCKED))
        engine.dispose()
        raise AssertionError(f"no takeover; {blocked} session(s) blocked on a lock") from None


def test_a_holder_stopped_past_its_ttl_neither_calls_nor_writes_after_the_takeover(
    app: Flask,
    sandbox: SandboxServer,
    pollers: Pollers,
    upstream_calls: list[tuple[float, str, str]],
    write_log: None,
) -> None:
    holding, standby = start_two(pollers)
    _, generation = pollers.holder() or ("", 0)
    deletion_ids = request_all(app, sandbox)
    wait_for(lambda: sent_ops(app) >= 3, timeout=60)
    pollers.procs[holding].send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()

    time.sleep(TTL)  # deliberate: the stopped holder's lease runs out
    new_holder = wait_for_takeover(app, pollers)
    assert new_holder == (standby, generation + 1)
    assert time.monotonic() - stopped_at <= 2 * TTL + MARGIN
    pollers.procs[holding].send_signal(signal.SIGCONT)

    wait_for(lambda: all_final(app, deletion_ids), timeout=90, interval=0.1)
    wait_for(lambda: "standing by" in pollers.output(holding).split("polling")[-1], timeout=60)
    stood_by = time.time()  # its cycle ended: every task of that cycle had finished
    assert pollers.holder() == (standby, generation + 1)  # never taken back

    # The stand-by's first lease write is the takeover (before, its updates matched no row).
    takeover = write_time(app, standby, "leases", first=True).timestamp()
    last = write_time(app, holding)
    assert (
        last is not None and last.timestamp() < takeover
    )  # it committed nothing after the takeover
    own_host = HOSTS[0] if holding == "poller-a" else HOSTS[1]
    late = [call for call in upstream_calls if call[1] == own_host and call[0] >= takeover]
    # A call that had passed the fence when SIGSTOP came goes out on SIGCONT (the API takes
    # no fencing token): at most one per thread of the stopped poller, and none after it
    # saw the lease gone. Nothing it sent late was sent twice (checked below).
    assert len(late) <= THREADS, late
    assert [call for call in late if call[0] >= stood_by] == []
    assert any(call[1] == own_host for call in upstream_calls)  # …though it did work before
    print(f"stopped holder: {len(late)} call(s) already past the fence went out on SIGCONT")
    ended = pollers.output(holding).count("the database ended this poller's connection")
    print(f"stopped holder: {ended} task(s) found their transaction ended by PostgreSQL")
    # Woken, it stopped cleanly: log lines, no traceback, and it still runs, standing by.
    assert "Traceback" not in pollers.output(holding), pollers.output(holding)[-3000:]
    assert pollers.procs[holding].poll() is None
    assert_sent_once_and_recorded(app, sandbox, deletion_ids)
