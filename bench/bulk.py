"""Bulk: the same ids deleted by direct batch calls, then through the dashboard, on one sandbox.

The sandbox (its own process, no per-item delay) first receives the batch DELETE calls a
script would make (chunks of 1,000, back to back, each operation then polled until it ends);
the images are added back; then an operator uploads the same ids as a .txt file, confirms,
and the dashboard (its own process, poller thread) sends and follows them. Printed: both wall
times (dashboard: from the confirming POST until the request is done in its database), the
ratio (target ≤ 1.25), the share of items with a recorded outcome (target 100 %), and the
web process's peak RSS growth (target < 100 MB with --ids 100000).

    .venv/bin/python bench/bulk.py [--ids 10000] [--interval 0.2] [--budget 20]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import threading
import time

import requests
from _procs import free_port, memory_mb, serve, stop
from _support import logged_in_session, migrated_database

KEY = "bench-key"
CHUNK = 1000


def direct(url: str, ids: list[str]) -> float:
    """Seconds to delete `ids` with batch calls and see every operation end."""
    session = requests.Session()
    session.headers["API-Key"] = KEY
    started = time.monotonic()
    op_ids = []
    for start in range(0, len(ids), CHUNK):
        response = session.delete(f"{url}/imgs", json=ids[start : start + CHUNK], timeout=60)
        op_ids.append(response.json()["op_id"])
    for op_id in op_ids:  # in order: the queue runs them in order
        while not session.get(f"{url}/ops/{op_id}", timeout=10).json()["is_finished"]:
            time.sleep(0.01)
    return time.monotonic() - started


def restore(url: str, ids: list[str]) -> None:
    """Add the images back (waiting for each operation)."""
    session = requests.Session()
    session.headers["API-Key"] = KEY
    for start in range(0, len(ids), 10_000):
        body = [
            {"id": i, "src": f"https://example.org/{i}.jpg"} for i in ids[start : start + 10_000]
        ]
        session.post(f"{url}/imgs", params={"wait": "true"}, json=body, timeout=600)


def read(path: str, sql: str, *args: object) -> tuple:
    """One row read from the dashboard's database (read-only)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(sql, args).fetchone()


def through_dashboard(
    session: requests.Session, base: str, path: str, ids: list[str]
) -> tuple[float, float, int]:
    """(seconds from the confirming POST to done, share of items settled, deletion id)."""
    page = session.get(f"{base}/images", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    files = {"ids_file": ("ids.txt", "\n".join(ids).encode())}
    review = session.post(
        f"{base}/deletions/new", data={"csrf_token": token}, files=files, timeout=120
    )
    fields = dict(re.findall(r'name="(selection_id|ids_sha256)" value="([^"]+)"', review.text))
    form = {"csrf_token": token, "reason": "bulk bench", **fields}
    started = time.monotonic()
    answer = session.post(f"{base}/deletions", data=form, allow_redirects=False, timeout=120)
    deletion_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    final = ("done", "done_with_errors", "rejected")
    while (
        read(path, "SELECT state FROM deletion_requests WHERE id = ?", deletion_id)[0] not in final
    ):
        time.sleep(0.01)
    seconds = time.monotonic() - started
    settled = read(
        path, "SELECT count(*) FROM deletion_items WHERE deletion_id = ? AND outcome IN "
        "('deleted', 'failed', 'not_found')", deletion_id,
    )[0]  # fmt: skip
    return seconds, settled / len(ids), deletion_id


def sample_rss(pid: int, samples: list[float], done: threading.Event) -> None:
    """VmRSS of `pid` every 20 ms until `done` (VmHWM would keep the login's argon2 peak)."""
    while not done.is_set():
        samples.append(memory_mb(pid))
        time.sleep(0.02)


def main() -> None:
    """Run both ways and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=0.2, help="WESOG_POLL_INTERVAL")
    parser.add_argument("--budget", type=float, default=20, help="WESOG_MAX_CALLS_PER_SECOND")
    parser.add_argument("--inflight", type=int, default=4, help="WESOG_MAX_INFLIGHT_OPS")
    args = parser.parse_args()
    ids = [str(100001 + n) for n in range(args.ids)]
    sandbox_port, web_port = free_port(), free_port()
    sandbox = web = None
    try:
        sandbox = serve("sandbox", sandbox_port, {}, str(args.ids + 10), "0", "0", KEY)
        url = f"http://127.0.0.1:{sandbox_port}"
        uri = migrated_database({"bulk": "operator"})
        env = {
            "DATABASE_URL": uri, "WESOG_API_URL": url, "WESOG_API_KEY": KEY,
            "SECRET_KEY": "bench", "WESOG_POLLER": "thread",
            "WESOG_POLL_INTERVAL": str(args.interval),
            "WESOG_MAX_CALLS_PER_SECOND": str(args.budget),
            "WESOG_MAX_INFLIGHT_OPS": str(args.inflight),
        }  # fmt: skip
        web = serve("web", web_port, env)
        base = f"http://127.0.0.1:{web_port}"
        requests.get(f"{base}/login", timeout=30)  # starts the poller thread
        direct_seconds = direct(url, ids)
        restore(url, ids)
        # Logged in first: argon2 verifies a password in 64 MiB, which is not the deletion's.
        session = logged_in_session(base, "bulk")
        rss_before, samples, done = memory_mb(web.pid), [], threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(web.pid, samples, done), daemon=True)
        sampler.start()
        path = uri.removeprefix("sqlite:///")
        seconds, share, deletion_id = through_dashboard(session, base, path, ids)
        done.set()
        sampler.join()
        peak = max(samples, default=rss_before)
        print(
            f"{args.ids:,} ids, chunks of {CHUNK:,}; dashboard poll interval {args.interval} s, "
            f"budget {args.budget:g} calls/s, {args.inflight} operations in flight\n"
            f"direct batch calls: {direct_seconds:.2f} s\n"
            f"through the dashboard (deletion #{deletion_id}): {seconds:.2f} s\n"
            f"ratio dashboard / direct: {seconds / direct_seconds:.2f} (target ≤ 1.25)\n"
            f"items with a recorded outcome: {share:.1%} (target 100 %)\n"
            f"web RSS: {rss_before:.0f} MB before the upload, peak {peak:.0f} MB during it: "
            f"growth {peak - rss_before:.0f} MB (target < 100 MB for 100,000 ids)"
        )
    finally:
        stop(web, sandbox)


if __name__ == "__main__":
    main()
