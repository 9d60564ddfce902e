"""Soak: operations keep coming while 50 people watch, and the API fails now and then.

A driver keeps about 100 operations queued or running upstream (small batch adds, created
directly, so the dashboard discovers them), 5 % of API requests answer 503, and 50 logged-in
viewers poll what pages poll (an operation's progress, the running badge, the list) every
second. The web server and the poller run as separate processes. Printed: RSS of both once
warmed up (after 20 s of viewers) and at the end, and how many viewers' requests got a 5xx.
Targets: growth < 20 MB, 0 server errors.

    .venv/bin/python bench/soak.py [--minutes 10] [--viewers 50] [--ops 100]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import threading
import time
from collections import Counter

import requests
from _procs import free_port, memory_mb, poller, serve, stop
from _support import logged_in_session, migrated_database

KEY = "bench-key"


def recent_op_ids(path: str) -> list[int]:
    """Some operations the dashboard knows, newest first."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
        rows = connection.execute("SELECT op_id FROM operations ORDER BY op_id DESC LIMIT 50")
        return [row[0] for row in rows]


def drive(url: str, target: int, stop_at: float) -> None:
    """Keep about `target` unfinished operations upstream (5 % of these calls fail too)."""
    session = requests.Session()
    session.headers["API-Key"] = KEY
    serial = 0
    while time.monotonic() < stop_at:
        try:
            ops = session.get(f"{url}/ops", params={"page": 1, "limit": 500}, timeout=10).json()
            missing = target - sum(1 for op in ops if not op["is_finished"])
            for _ in range(max(0, min(missing, 20))):
                serial += 1
                body = [
                    {"id": f"soak-{serial}-{n}", "src": "https://example.org/s.jpg"}
                    for n in range(5)
                ]
                session.post(f"{url}/imgs", json=body, timeout=10)
        except (requests.RequestException, ValueError, TypeError):
            pass  # an injected 503: try again next round
        time.sleep(0.5)


def viewer(base: str, session: requests.Session, path: str, stop_at: float, seen: Counter) -> None:
    """Poll like an open tab: progress of a recent operation, the badge, the list."""
    headers = {"HX-Request": "true"}
    while time.monotonic() < stop_at:
        started = time.monotonic()
        op_ids = recent_op_ids(path) or [1]
        for url in (f"/ops/{random.choice(op_ids)}/progress", "/ops/running", "/ops"):
            try:
                status = session.get(base + url, headers=headers, timeout=30).status_code
            except requests.RequestException:
                status = 599
            seen["5xx" if status >= 500 else str(status)] += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def main() -> None:
    """Run the soak and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--ops", type=int, default=100)
    args = parser.parse_args()
    sandbox = web = poll = None
    try:
        sandbox_port, web_port = free_port(), free_port()
        sandbox = serve("sandbox", sandbox_port, {}, "1000", "20", "20", KEY)
        url = f"http://127.0.0.1:{sandbox_port}"
        uri = migrated_database({f"viewer{n}": "viewer" for n in range(args.viewers)})
        env = {
            "DATABASE_URL": uri,
            "WESOG_API_URL": url,
            "WESOG_API_KEY": KEY,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "external",
        }
        web, poll = serve("web", web_port, env), poller(env)
        base, path = f"http://127.0.0.1:{web_port}", uri.removeprefix("sqlite:///")
        sessions = [logged_in_session(base, f"viewer{n}") for n in range(args.viewers)]
        stop_at = time.monotonic() + args.minutes * 60
        driver = threading.Thread(target=drive, args=(url, args.ops, stop_at), daemon=True)
        driver.start()
        time.sleep(5)  # warm up: the first operations discovered, every session used once
        requests.patch(
            f"{url}/_sandbox/settings",
            json={"rate_5xx": 0.05},
            headers={"API-Key": KEY},
            timeout=10,
        )
        seen: Counter[str] = Counter()
        threads = [
            threading.Thread(target=viewer, args=(base, s, path, stop_at, seen)) for s in sessions
        ]
        for thread in threads:
            thread.start()
        time.sleep(min(20.0, args.minutes * 60 / 4))  # warm-up: caches filled, pools grown
        start = {"web": memory_mb(web.pid), "poller": memory_mb(poll.pid)}
        for thread in threads:
            thread.join()
        end = {"web": memory_mb(web.pid), "poller": memory_mb(poll.pid)}
        stats = requests.get(f"{url}/_sandbox/stats", headers={"API-Key": KEY}, timeout=10).json()
        known = len(recent_op_ids(path))
        print(
            f"{args.minutes:g} min, {args.viewers} viewers, ~{args.ops} operations cycling, "
            f"5 % upstream 503s\n"
            f"web RSS: {start['web']:.1f} MB → {end['web']:.1f} MB "
            f"(growth {end['web'] - start['web']:+.1f} MB, target < 20)\n"
            f"poller RSS: {start['poller']:.1f} MB → {end['poller']:.1f} MB "
            f"(growth {end['poller'] - start['poller']:+.1f} MB, target < 20)\n"
            f"viewer requests: {sum(seen.values())}, by status {dict(seen)}; "
            f"server errors (5xx): {seen['5xx']} (target 0)\n"
            f"upstream requests seen by the sandbox: {stats}; dashboard knew ≥ {known} operations"
        )
    finally:
        stop(poll, web, sandbox)


if __name__ == "__main__":
    main()
