"""Fragment latency: the progress fragment under 50 polling clients, next to a trivial route.

The dashboard runs under gunicorn (2 workers × 8 threads) against a sandbox with one running
operation. 50 clients poll `/ops/<op_id>/progress` as htmx does; 5 clients hit `/healthz`
(no database, no login) on the same server at the same time. Prints p50/p95 of both and the ratio.
Target: fragment p95 ≤ 2 × trivial p95. With DATABASE_URL naming a PostgreSQL server, the same
measurement runs again on PostgreSQL (in a database of its own there), printed below SQLite's.
Then, unless --no-lists, the idle list fragments are measured the same way (bench/lists.py:
`/ops/list` and the overview, target ≤ 1.5 × trivial p95, and the image grid's watcher).

    .venv/bin/python bench/fragments.py [--seconds 15] [--clients 50] [--interval 0.5] [--no-lists]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import lists
import requests
from _engines import engines, fresh_database
from _support import (
    create_app,
    gunicorn_serving,
    logged_in_session,
    migrated_database,
    percentile,
    run_concurrently,
    start_sandbox,
    summary_ms,
    wait_until,
)


def poll(session: requests.Session, url: str, stop_at: float, interval: float, out: list) -> None:
    """GET `url` every `interval` seconds until `stop_at`, appending latencies to `out`."""
    headers = {"HX-Request": "true"}
    next_at = time.monotonic() + interval * (hash(url + str(id(session))) % 100) / 100
    while next_at < stop_at:
        time.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        try:
            response = session.get(url, headers=headers, timeout=30)
        except requests.ConnectionError:
            # gunicorn closed the kept-alive connection as the poll went out; a browser sends
            # the GET again on a new one, and so do we, the reconnection counted in its time.
            response = session.get(url, headers=headers, timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        out.append(elapsed)
        next_at += interval


def main() -> None:
    """Measure on each engine (SQLite, then PostgreSQL when DATABASE_URL names one), print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--no-lists", action="store_true", help="skip the idle list fragments")
    args = parser.parse_args()
    for engine in engines():
        with fresh_database(engine) as uri:
            fragment, trivial, op_id = measure(migrated_database({"watcher": "viewer"}, uri), args)
        print(
            f"{engine}: gunicorn 2 workers × 8 threads; operation #{op_id} running; "
            f"{args.seconds:.0f} s"
        )
        fragment_label = f"progress fragment ({args.clients} clients every {args.interval} s)"
        trivial_label = f"trivial /healthz ({5} clients every {args.interval / 5} s)"
        print(f"  {fragment_label:45s} {summary_ms(fragment)}")
        print(f"  {trivial_label:45s} {summary_ms(trivial)}")
        ratio = percentile(fragment, 0.95) / percentile(trivial, 0.95)
        verdict = "OK" if ratio <= 2 else "MISSED"
        print(f"  fragment p95 / trivial p95 = {ratio:.2f} (target ≤ 2.00): {verdict}")
    if not args.no_lists:
        print("The idle list fragments (bench/lists.py):")
        lists.run(args)


def measure(uri: str, args: argparse.Namespace) -> tuple[list[float], list[float], int]:
    """Serve the console on `uri` under gunicorn and time both routes while an op runs."""
    items = 900  # one chunk, so one operation, outlasting the measurement
    item_ms = int((args.seconds + 30) * 1000 / items) + 1
    sandbox = start_sandbox(images=items + 10, item_ms=item_ms, start_ms=0)
    try:
        with gunicorn_serving(uri, sandbox) as base_url:
            op_id = start_operation(uri, sandbox, items)
            sessions = [logged_in_session(base_url, "watcher") for _ in range(args.clients)]
            fragment, trivial = poll_both(base_url, op_id, sessions, args)
            return fragment, trivial, op_id
    finally:
        sandbox.stop()


def start_operation(uri: str, sandbox: Any, items: int) -> int:
    """Ask for one deletion of `items` ids and wait until its operation runs upstream."""
    from wesog_dash import deletions
    from wesog_dash.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
            "WESOG_POLLER": "off",
            "SECRET_KEY": "bench-secret",
        }
    )
    ids = [str(100001 + n) for n in range(items)]
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ids, deletions.DeletionOptions("fragment benchmark"), deletions.Requester("cli:bench")
        ).id

    def running_op() -> int | None:
        with app.app_context():
            ops = deletions.get_deletion(deletion_id).operations
            return next((op.op_id for op in ops if op.is_started and not op.is_finished), None)

    op_id = wait_until(running_op, timeout=30)
    with app.app_context():
        db.engine.dispose()
    return op_id


def poll_both(
    base_url: str, op_id: int, sessions: list[requests.Session], args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """The fragment's and /healthz's latencies, polled at the same time."""
    fragment: list[float] = []
    trivial: list[float] = []
    stop_at = time.monotonic() + args.seconds
    url = f"{base_url}/ops/{op_id}/progress"
    healthz = (f"{base_url}/healthz", stop_at, args.interval / 5, trivial)
    run_concurrently(
        [(poll, (s, url, stop_at, args.interval, fragment)) for s in sessions]
        + [(poll, (requests.Session(), *healthz)) for _ in range(5)]
    )
    return fragment, trivial


if __name__ == "__main__":
    main()
