"""Fragment latency: polled fragments under 50 polling clients, next to a trivial route.

The dashboard runs under gunicorn (2 workers × 8 threads) against the sandbox.

1. Idle lists: a finished deletion is on record and nothing runs. 50 clients poll the live
   lists as the pages do — half `/ops/list`, half `/overview/live` — each sending back the
   version it was given (`v`), so every answer is "nothing changed" (204). Target: list p95
   ≤ 1.5 × trivial p95.
2. Progress: one operation running; 50 clients poll `/ops/<op_id>/progress`. Target: fragment
   p95 ≤ 2 × trivial p95.

In both, 5 clients hit `/healthz` (no database, no login) on the same server at the same time.

    .venv/bin/python bench/fragments.py [--seconds 15] [--clients 50] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from _support import (
    ROOT,
    create_app,
    logged_in_session,
    migrated_database,
    percentile,
    start_sandbox,
    summary_ms,
    wait_until,
)
from flask import Flask


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(
    session: requests.Session,
    url: str,
    stop_at: float,
    interval: float,
    out: list,
    expect: tuple[int, ...] = (200,),
) -> None:
    """GET `url` every `interval` seconds until `stop_at`, appending latencies to `out`."""
    headers = {"HX-Request": "true"}
    next_at = time.monotonic() + interval * (hash(url + str(id(session))) % 100) / 100
    while next_at < stop_at:
        time.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code not in expect:
            raise SystemExit(f"{url} answered {response.status_code}")
        out.append(elapsed)
        next_at += interval


def main() -> None:
    """Start everything, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()

    items = 900  # one chunk, so one operation, outlasting the measurement
    item_ms = int((args.seconds + 30) * 1000 / items) + 1
    sandbox = start_sandbox(images=items + 10, item_ms=item_ms, start_ms=0)
    sandbox.settings.item_ms = 20  # the warm-up deletion ends quickly; the long one is slower
    uri = migrated_database({"watcher": "viewer"})
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": uri,
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "thread",
        "SECRET_KEY": "bench-secret",
    }
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "--threads", "8"]
    gunicorn += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:app"]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base_url), timeout=30)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": uri,
                "WESOG_API_URL": sandbox.url,
                "WESOG_API_KEY": sandbox.settings.api_key,
                "WESOG_POLLER": "off",
                "SECRET_KEY": "bench-secret",
            }
        )
        from wesog_dash import deletions

        sessions = [logged_in_session(base_url, "watcher") for _ in range(args.clients)]
        with app.app_context():
            warm_id = deletions.request_deletion(
                ["100001", "100002", "100003"], "finished before the idle phase",
                actor="cli:bench", user_id=None, remote_addr=None,
            ).id  # fmt: skip
        measure_idle_lists(app, base_url, sessions, warm_id, args)
        sandbox.settings.item_ms = item_ms
        ids = [str(100004 + n) for n in range(items)]
        with app.app_context():
            deletion_id = deletions.request_deletion(
                ids, "fragment benchmark", actor="cli:bench", user_id=None, remote_addr=None
            ).id

        def running_op() -> int | None:
            with app.app_context():
                ops = deletions.get_deletion(deletion_id).operations
                return next((op.op_id for op in ops if op.is_started and not op.is_finished), None)

        op_id = wait_until(running_op, timeout=30)
        fragment, trivial = [], []
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=poll,
                args=(s, f"{base_url}/ops/{op_id}/progress", stop_at, args.interval, fragment),
            )
            for s in sessions
        ]
        threads += [
            threading.Thread(
                target=poll,
                args=(
                    requests.Session(),
                    f"{base_url}/healthz",
                    stop_at,
                    args.interval / 5,
                    trivial,
                ),
            )
            for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"gunicorn 2 workers × 8 threads; operation #{op_id} running; {args.seconds:.0f} s")
        fragment_label = f"progress fragment ({args.clients} clients every {args.interval} s)"
        trivial_label = f"trivial /healthz ({5} clients every {args.interval / 5} s)"
        print(f"{fragment_label:45s} {summary_ms(fragment)}")
        print(f"{trivial_label:45s} {summary_ms(trivial)}")
        ratio = percentile(fragment, 0.95) / percentile(trivial, 0.95)
        verdict = "OK" if ratio <= 2 else "MISSED"
        print(f"fragment p95 / trivial p95 = {ratio:.2f} (target ≤ 2.00): {verdict}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        sandbox.stop()


def measure_idle_lists(
    app: Flask,
    base_url: str,
    sessions: list[requests.Session],
    warm_id: int,
    args: argparse.Namespace,
) -> None:
    """Phase 1: the live lists with nothing changing; every poll must be a 204."""
    from wesog_dash import deletions

    def finished() -> bool:
        with app.app_context():
            row = deletions.get_deletion(warm_id)
            return row is not None and row.state in ("done", "done_with_errors", "rejected")

    wait_until(finished, timeout=60)
    time.sleep(1.5)  # the poller's last writes for it are done
    urls = []
    for n, session in enumerate(sessions):
        page, live = ("/ops", "/ops/list") if n % 2 == 0 else ("/", "/overview/live")
        html = session.get(base_url + page, timeout=10).text
        version = re.search(r"hx-vals='\{\"v\": \"([^\"]+)\"\}'", html)
        assert version, f"{page} carries no list version"
        urls.append(f"{base_url}{live}?v={version.group(1)}")
    lists: list[float] = []
    trivial: list[float] = []
    stop_at = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=poll, args=(s, u, stop_at, args.interval, lists, (204,)))
        for s, u in zip(sessions, urls, strict=True)
    ]
    threads += [
        threading.Thread(
            target=poll,
            args=(requests.Session(), f"{base_url}/healthz", stop_at, args.interval / 5, trivial),
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"Phase 1: nothing running, live lists answer 204; {args.seconds:.0f} s")
    label = f"/ops/list + /overview/live ({args.clients} clients every {args.interval} s)"
    print(f"{label:45s} {summary_ms(lists)}")
    print(f"{'trivial /healthz (5 clients)':45s} {summary_ms(trivial)}")
    ratio = percentile(lists, 0.95) / percentile(trivial, 0.95)
    verdict = "OK" if ratio <= 1.5 else "MISSED"
    print(f"idle list p95 / trivial p95 = {ratio:.2f} (target ≤ 1.50): {verdict}")
    print()


def _up(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/healthz", timeout=1).ok
    except requests.RequestException:  # not listening yet, or workers still booting
        return False


if __name__ == "__main__":
    main()
