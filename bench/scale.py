"""Scale: 1,000 operations created elsewhere are discovered, then followed to their end.

--ops operations are queued upstream while the sandbox holds its queue (`hold`), by direct
API calls (nobody clicks "Import"; above 2,000 by the sandbox's bulk endpoint, which is
quicker); the poller (its own process, `flask wesog poll`, default settings: 1 s interval, the
adaptive pace from 10 calls/s) must discover them. Then the queue is released and they all end
within seconds. The sandbox speaks --dialect (`reference`: `GET /ops` is the bare array of
every operation, unpaged; `sandbox`: paged). Printed: upstream calls by kind while they run
(and per poll interval), the dashboard's lag behind upstream once they have all ended, the pace
over time and the poller's CPU seconds. Targets: ≤ 2 calls per poll interval; ≤ 2 poll
intervals behind.

    .venv/bin/python bench/scale.py [--ops 1000] [--interval 1.0] [--dialect reference|sandbox]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from datetime import UTC, datetime

import requests
from _procs import cpu_seconds, poller, stop
from _support import migrated_database, start_sandbox, wait_until

BULK_ABOVE = 2000  # more operations than this are made by the sandbox's bulk endpoint


def db_path(uri: str) -> str:
    """The file of a sqlite:/// URL."""
    return uri.removeprefix("sqlite:///")


def scalar(path: str, sql: str) -> object:
    """One value read from the dashboard's database (read-only, its own connection)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(sql).fetchone()[0]


def parse(moment: str) -> float:
    """An ISO time (ours or the sandbox's) as a Unix time."""
    value = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def api_calls(sandbox) -> int:  # type: ignore[no-untyped-def]
    """Wesog API requests the sandbox received."""
    return sum(n for key, n in sandbox.state.stats.items() if "/thumbs" not in key)


def main() -> None:
    """Run the scenario and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--dialect", choices=("reference", "sandbox"), default="reference")
    args = parser.parse_args()

    sandbox = start_sandbox(
        images=min(args.ops, 2000) + 10, item_ms=1, start_ms=0, hold=True, dialect=args.dialect
    )
    uri = migrated_database({})
    path = db_path(uri)
    env = {
        "DATABASE_URL": uri,
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": "bench-key",
        "SECRET_KEY": "bench",
        "WESOG_POLLER": "external",
        "WESOG_POLL_INTERVAL": str(args.interval),
    }
    process = poller(env)
    try:
        # Its first cycle done: it has looked at the (empty) list, so what appears next is new.
        # Operations already there at the first look are history, not discovered (README).
        wait_until(lambda: scalar(path, "SELECT count(cycle_at) FROM leases"), timeout=60)
        session = requests.Session()
        session.headers["API-Key"] = "bench-key"
        started = time.monotonic()
        if args.ops > BULK_ABOVE:
            sandbox.state.bulk_ops(args.ops, "del", "queued", 1)
        for n in range(args.ops if args.ops <= BULK_ABOVE else 0):
            session.delete(f"{sandbox.url}/imgs/{100001 + n}", timeout=10).raise_for_status()
        created = time.monotonic()
        found = "SELECT count(*) FROM operations WHERE origin = 'discovered'"
        wait_until(lambda: scalar(path, found) == args.ops, timeout=120, interval=0.05)
        print(
            f"{args.ops} operations queued upstream in {created - started:.1f} s, all discovered "
            f"{time.monotonic() - created:.1f} s after the last one (no click)"
        )
        sandbox.state.reset_stats()
        cpu_before, released = cpu_seconds(process.pid), time.monotonic()
        sandbox.settings.hold = False
        sandbox.state.wake()
        ended = "SELECT count(*) FROM operations WHERE is_finished = 1"
        paces: list[str] = []

        def done() -> bool:
            pace = scalar(path, "SELECT pace_per_second || '/s ' || pace_reason FROM leases")
            if pace and (not paces or not paces[-1].endswith(str(pace))):
                paces.append(f"{time.monotonic() - released:.1f} s {pace}")
            return scalar(path, ended) == args.ops

        wait_until(done, timeout=600, interval=0.05)
        window = time.monotonic() - released
        calls, cpu = api_calls(sandbox), cpu_seconds(process.pid) - cpu_before
        report(sandbox, path, args, window, calls, cpu)
        print("pace: " + ", ".join(paces[:12]))
    finally:
        stop(process)
        sandbox.stop()


def report(sandbox, path: str, args, window: float, calls: int, cpu: float) -> None:  # type: ignore[no-untyped-def]
    """Print the figures of the run."""
    upstream_end = max(parse(op["finished_at"]) for op in sandbox.state.list_ops())
    dashboard_end = parse(str(scalar(path, "SELECT max(last_polled_at) FROM operations")))
    lag = dashboard_end - upstream_end
    per_interval = calls / (window / args.interval)
    stats = dict(sandbox.state.stats)
    print(
        f"released: all ended upstream, then on the dashboard, {window:.1f} s after release\n"
        f"upstream calls while they ran: {calls} in {window:.1f} s = {calls / window:.2f}/s, "
        f"{per_interval:.2f} per poll interval (target ≤ 2) — {stats}\n"
        f"dashboard lag behind upstream at the end: {lag:.2f} s = "
        f"{lag / args.interval:.2f} poll intervals (target ≤ 2)\n"
        f"poller CPU while they ran: {cpu:.2f} s"
    )


if __name__ == "__main__":
    main()
