"""bench/metrics.py: the overview at a million operations and a million audit events.

Builds a fresh migrated SQLite file, fills it in a child process with N audit events (and
the deletion requests they talk about, as `audit_fill` does) and N operations spread over
the last 35 days (a few hundred still running or queued, two progress samples each), then
rebuilds the rollups with the real `metrics rebuild` code, and drives the real app through
the Flask test client, logged in through /login. Prints p50/p95 of the overview per period
and of the realtime poll (changed and unchanged), in wall-clock and CPU milliseconds
(the CPU time of the measuring process stays meaningful when the machine is busy).

Usage: .venv/bin/python bench/metrics.py [--rows 1000000] [--requests 30] [--keep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit import PASSWORD, bench_app, p95  # noqa: E402
from audit_fill import fill as fill_audit  # noqa: E402
from audit_fill import sql_time  # noqa: E402

SPAN = timedelta(days=35)
LIVE = 300  # operations still running or queued
OP_COLUMNS = (
    "op_id, method, resource, num_total, num_good, num_bad, is_started, is_finished, all_good, "
    "do_wait, do_urgent, do_strict, idle_ms, exec_ms, created_at, started_at, finished_at, "
    "errors, origin, state, first_seen_at, last_polled_at, last_change_at, next_poll_at, "
    "poll_failures, outcomes_applied"
)
METHODS = ["del"] * 6 + ["upd"] * 2 + ["add", "multiple"]


def operation(rng: random.Random, op_id: int, end: datetime, live: bool) -> tuple[Any, ...]:
    """One operation row (finished, or running/queued when `live`) and its two samples."""
    total = rng.choice((1, 1, 1, 2, 5, 20, 50))
    bad = sum(rng.random() < 0.04 for _ in range(total))
    idle, run = rng.lognormvariate(6.2, 1.2), rng.lognormvariate(8.0, 1.0)
    created = end - timedelta(milliseconds=idle + run)
    started = created + timedelta(milliseconds=idle)
    if live:
        started_flag = rng.random() < 0.6
        good = rng.randrange(total) if started_flag else 0
        state = "running" if started_flag else "queued"
        seen = sql_time(end)
        row = (
            op_id,
            rng.choice(METHODS),
            "image",
            total,
            good,
            0,
            started_flag,
            False,
            None,
            False,
            False,
            False,
            idle,
            0.0,
            sql_time(created),
            None,
            None,
            "[]",
            "dashboard",
            state,
            sql_time(created),
            seen,
            seen,
            seen,
            0,
            False,
        )
        return row, [(op_id, sql_time(end), good, 0, started_flag, False)]
    good = total - bad
    row = (
        op_id,
        rng.choice(METHODS),
        "image",
        total,
        good,
        bad,
        True,
        True,
        bad == 0,
        False,
        False,
        False,
        idle,
        run,
        sql_time(created),
        sql_time(started),
        sql_time(end),
        "[]",
        "tracked",
        "finished_with_errors" if bad else "finished",
        sql_time(created),
        sql_time(end),
        sql_time(end),
        None,
        0,
        True,
    )
    half = (created + (end - created) / 2, total // 2, 0, True, False)
    samples = [(op_id, sql_time(half[0]), *half[1:]), (op_id, sql_time(end), good, bad, True, True)]
    return row, samples


def fill_operations(path: str, count: int) -> None:
    """Bulk-insert `count` operations (ending over SPAN, up to now) and their samples."""
    rng = random.Random(12)
    now = datetime.now(UTC)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    insert_op = f"INSERT INTO operations ({OP_COLUMNS}) VALUES ({','.join('?' * 26)})"
    insert_sample = (
        "INSERT INTO operation_samples (op_id, seen_at, num_good, num_bad, is_started, "
        "is_finished) VALUES (?,?,?,?,?,?)"
    )
    step = SPAN / count
    ops, samples = [], []
    for n in range(1, count + 1):
        end = now - SPAN + step * n - timedelta(seconds=5)
        row, more = operation(rng, n, end, live=n > count - LIVE)
        ops.append(row)
        samples.extend(more)
        if len(ops) == 50_000 or n == count:
            connection.executemany(insert_op, ops)
            connection.executemany(insert_sample, samples)
            ops, samples = [], []
    connection.commit()
    connection.close()


def fill(path: str, count: int, result: Any) -> None:
    """Child process: the audit fill (which migrates), then operations, then the rebuild."""
    fill_audit(f"sqlite:///{path}", count, result)
    started = time.perf_counter()
    fill_operations(path, count)
    filled = time.perf_counter() - started
    from wesog_dash import metrics

    app = bench_app(f"sqlite:///{path}")
    started = time.perf_counter()
    with app.app_context():
        done = metrics.rebuild()
    result.put((filled, time.perf_counter() - started, done))


def logged_in_client(app: Any) -> Any:
    """A test client logged in (as a viewer) through the real /login form."""
    from flask_migrate import upgrade

    from wesog_dash import accounts

    with app.app_context():
        upgrade()  # a file kept by an older run gets the newest schema
        if accounts.find_user("bench") is None:
            accounts.create_user("bench", PASSWORD, "viewer", actor="cli:bench")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[-1].split('"', 1)[0]
    data = {"username": "bench", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302, "login failed"
    return client


def timed(client: Any, urls: list[str], ok: tuple[int, ...] = (200,)) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) per GET: CPU time of this process stays honest on a busy machine."""
    samples = []
    for url in urls:
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        assert response.status_code in ok, (url, response.status_code)
    return samples


def measure(path: Path, requests: int) -> list[tuple[str, list[tuple[float, float]]]]:
    """Latencies of the overview per period and of the realtime poll."""
    app = bench_app(f"sqlite:///{path}")
    client = logged_in_client(app)
    found = []
    for period in ("hour", "day", "week", "month"):
        urls = [f"/?period={period}"] * requests
        timed(client, urls[:3])  # warm the page cache
        found.append((f"overview, {period}", timed(client, urls)))
    page = client.get("/").get_data(as_text=True)
    version = page.split('data-version="', 1)[1].split('"', 1)[0]
    found.append(("realtime poll, changed", timed(client, ["/overview/realtime"] * requests)))
    # 200 instead of 204 only when the minute rolled over meanwhile.
    unchanged = timed(client, [f"/overview/realtime?v={version}"] * requests, (200, 204))
    found.append(("realtime poll, unchanged (204)", unchanged))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="operations and events")
    parser.add_argument("--requests", type=int, default=30, help="requests per measure")
    parser.add_argument("--keep", action="store_true", help="keep the database file afterwards")
    parser.add_argument("--db", type=Path, help="measure a file kept by an earlier --keep run")
    options = parser.parse_args()
    if options.db:
        report(measure(options.db, options.requests), options)
        return
    folder = Path(tempfile.mkdtemp(prefix="wesog-metrics-bench-"))
    path = folder / "metrics.db"
    print(f"Filling {options.rows:,} audit events and {options.rows:,} operations …", flush=True)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=fill, args=(str(path), options.rows, queue))
    child.start()
    audit_s, deletions, items = queue.get()
    ops_s, rebuild_s, done = queue.get()
    child.join()
    print(
        f"audit events filled in {audit_s:.1f} s ({deletions:,} deletion requests, {items:,} items)"
    )
    print(
        f"operations filled in {ops_s:.1f} s; `metrics rebuild` took {rebuild_s:.1f} s "
        f"({done.samples:,} samples → {done.minute_rows:,} minute rows, "
        f"{done.hour_rows:,} hour rows, {done.day_rows:,} day rows)"
    )
    try:
        report(measure(path, options.requests), options)
    finally:
        if options.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def report(rows: list[tuple[str, list[tuple[float, float]]]], options: argparse.Namespace) -> None:
    """Print p50/p95 (wall clock and CPU) per measure against the target."""
    print(
        f"\noverview at {options.rows:,} operations + {options.rows:,} audit events, "
        f"{options.requests} requests each (target: p95 ≤ 100 ms); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for name, samples in rows:
        wall, cpu = [w for w, _ in samples], [c for _, c in samples]
        ok = "yes" if p95(wall) <= 100 else "NO"
        print(
            f"{name:<31} wall p50 {statistics.median(wall):6.1f} p95 {p95(wall):6.1f} ms {ok:>3}"
            f"   CPU p50 {statistics.median(cpu):6.1f} p95 {p95(cpu):6.1f} ms"
        )


if __name__ == "__main__":
    main()
