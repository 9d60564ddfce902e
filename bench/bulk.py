"""Bulk: the same ids deleted by direct batch calls, then through the dashboard, on one sandbox.

The sandbox (its own process) first receives the batch DELETE calls a script would make (chunks
of 1,000, back to back, each operation then polled until it ends); the images are added back;
then an operator uploads the same ids as a .txt file, confirms, and the dashboard (its own
process, poller thread, default poll interval, no undo window) sends and follows them.

Each way runs against an API that takes no time per image (what is left is the dashboard's own
work, and it reads every image's metadata before deleting it, for a restore) and against one
that takes --item-ms per image (what an API doing real work costs). The sandbox speaks
--dialect (`reference`: only what the API reference documents, so no `∩` lists and a bare
`GET /ops`; `sandbox`: its conveniences) and, with --limit N, answers 429 above N calls per
second. The dashboard's pace starts at --start (WESOG_START_CALLS_PER_SECOND, default 10) and
never exceeds each of --max-calls (WESOG_MAX_CALLS_PER_SECOND, default 200). Printed per run:
both wall times (dashboard: from the confirming POST until the request is done in its
database), the ratio (target ≤ 1.25), the share of items with a recorded outcome (target
100 %), its upstream calls by kind, the share answered 429 (target ≤ 5 % with --limit 20), the
pace over time and the web process's peak RSS growth (target < 100 MB with --ids 100000, where
only the API without cost per image is run unless --item-ms says more).

    .venv/bin/python bench/bulk.py [--ids 10000] [--dialect reference|sandbox] [--limit 20]
        [--max-calls 200] [--start 10] [--item-ms 0,0.1,1] [--sparse] [--timeline]

Ids are consecutive numbers, as a script uploading in sequence makes them, so the metadata read
carries each chunk as one range (`wesog.many`); with --sparse, every other number, so it
cannot, and reads ~380 ids per `||` chain.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime

import requests
from _procs import free_port, memory_mb, serve, stop
from _support import csrf_token, logged_in_session, migrated_database

KEY = "bench-key"
CHUNK = 1000
SLOW_LIMIT = 20_000  # above this many ids, the per-image-cost runs are skipped unless asked


def api(url: str) -> requests.Session:
    """A session that talks to the sandbox with its key."""
    session = requests.Session()
    session.headers["API-Key"] = KEY
    return session


def set_item_ms(url: str, item_ms: float) -> None:
    """The sandbox's processing time per image, changed at runtime."""
    knobs(url, item_ms=item_ms)


def knobs(url: str, **values: object) -> None:
    """Change the sandbox's knobs at runtime."""
    api(url).patch(f"{url}/_sandbox/settings", json=values, timeout=10).raise_for_status()


def refused_calls(base: str) -> dict[str, int]:
    """The web process's upstream calls answered 429, by route (its /metrics)."""
    text = requests.get(f"{base}/metrics", timeout=10).text
    found = re.findall(
        r'wesog_upstream_calls_total\{method="(\w+)",outcome="WesogRateLimited",'
        r'route="([^"]+)"\} ([0-9.]+)',
        text,
    )
    return {f"{method} {route}": int(float(n)) for method, route, n in found}


def pace_samples(path: str, samples: list[tuple[float, float, str]], done: threading.Event) -> None:
    """The poller's pace (its lease row) every 0.2 s until `done`: (seconds, pace, reason)."""
    started = time.monotonic()
    while not done.is_set():
        row = read(path, "SELECT pace_per_second, pace_reason FROM leases WHERE name = 'poller'")
        if row and row[0] is not None and (not samples or samples[-1][1:] != tuple(row)):
            samples.append((time.monotonic() - started, row[0], row[1]))
        time.sleep(0.2)


def direct(url: str, ids: list[str]) -> float:
    """Seconds to delete `ids` with batch calls and see every operation end."""
    session = api(url)
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
    """Add the images back at no cost per image (waiting for each operation)."""
    session = api(url)
    knobs(url, item_ms=0, max_calls_per_second=0)
    for start in range(0, len(ids), 10_000):
        body = [
            {"id": i, "src": f"https://example.org/{i}.jpg"} for i in ids[start : start + 10_000]
        ]
        session.post(f"{url}/imgs", params={"wait": "true"}, json=body, timeout=600)


def read(path: str, sql: str, *args: object) -> tuple:
    """One row read from the dashboard's database (read-only)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(sql, args).fetchone()


def confirm_form(session: requests.Session, base: str, ids: list[str]) -> dict[str, str]:
    """Upload the ids as a file and return the confirming form's fields."""
    page = session.get(f"{base}/images", timeout=30).text
    token = csrf_token(page)
    files = {"ids_file": ("ids.txt", "\n".join(ids).encode())}
    review = session.post(
        f"{base}/deletions/new", data={"csrf_token": token}, files=files, timeout=120
    )
    fields = dict(re.findall(r'name="(selection_id|ids_sha256)" value="([^"]+)"', review.text))
    return {"csrf_token": token, "reason": "bulk bench", **fields}


def through_dashboard(
    session: requests.Session, base: str, path: str, form: dict[str, str], count: int
) -> tuple[float, float, int, float]:
    """(seconds from the confirming POST to done, share settled, deletion id, POST's time)."""
    wall, started = time.time(), time.monotonic()
    answer = session.post(f"{base}/deletions", data=form, allow_redirects=False, timeout=120)
    deletion_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    final = ("done", "done_with_errors", "rejected")
    while (
        read(path, "SELECT state FROM deletion_requests WHERE id = ?", deletion_id)[0] not in final
    ):
        time.sleep(0.01)
    seconds = time.monotonic() - started
    settled = read(
        path,
        "SELECT count(*) FROM deletion_items WHERE deletion_id = ? AND outcome IN "
        "('deleted', 'failed', 'not_found')",
        deletion_id,
    )[0]
    return seconds, settled / count, deletion_id, wall


def timeline(path: str, deletion_id: int, started_utc: float) -> str:
    """Per chunk, seconds after the confirming POST: sent, ended upstream, outcomes recorded."""
    rows = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
        sent = dict(
            connection.execute(
                "SELECT op_id, at FROM audit_events WHERE deletion_id = ? AND action = "
                "'deletion.submitted'",
                (deletion_id,),
            )
        )
        for op_id, finished, recorded in connection.execute(
            "SELECT o.op_id, o.finished_at, max(i.settled_at) FROM operations o JOIN "
            "deletion_items i ON i.op_id = o.op_id WHERE o.deletion_id = ? GROUP BY o.op_id "
            "ORDER BY o.op_id",
            (deletion_id,),
        ):
            rows.append(
                " ".join(
                    f"{_since(t, started_utc):8.2f}" for t in (sent.get(op_id), finished, recorded)
                )
            )
    return "      sent    ended recorded (s after the POST)\n" + "\n".join(rows)


def _since(text: str | None, started_utc: float) -> float:
    if text is None:
        return float("nan")
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.timestamp() - started_utc


def sample_rss(pid: int, samples: list[float], done: threading.Event) -> None:
    """VmRSS of `pid` every 20 ms until `done` (VmHWM would keep the login's argon2 peak)."""
    while not done.is_set():
        samples.append(memory_mb(pid))
        time.sleep(0.02)


def dashboard_runs(url: str, ids: list[str], budget: float, args: argparse.Namespace) -> list:
    """A web process whose pace tops at `budget`; one deletion per per-image cost."""
    uri = migrated_database({"bulk": "operator"})
    env = {
        "DATABASE_URL": uri,
        "WESOG_API_URL": url,
        "WESOG_API_KEY": KEY,
        "SECRET_KEY": "bench",
        "WESOG_POLLER": "thread",
        "WESOG_UNDO_SECONDS": "0",
        "WESOG_POLL_INTERVAL": str(args.interval),
        "WESOG_MAX_CALLS_PER_SECOND": str(budget),
        "WESOG_START_CALLS_PER_SECOND": str(args.start),
        "WESOG_METRICS": "1",
        "WESOG_MAX_INFLIGHT_OPS": str(args.inflight),
    }
    port, results, path = free_port(), [], uri.removeprefix("sqlite:///")
    web = serve("web", port, env)
    try:
        base = f"http://127.0.0.1:{port}"
        # Logged in first: argon2 verifies a password in 64 MiB, which is not the deletion's.
        session = logged_in_session(base, "bulk")
        for item_ms in args.item_ms:
            form = confirm_form(session, base, ids)
            knobs(url, item_ms=item_ms, max_calls_per_second=args.limit)
            api(url).post(f"{url}/_sandbox/stats/reset", timeout=10)
            refused_before = refused_calls(base)
            rss_before, samples, paces, done = memory_mb(web.pid), [], [], threading.Event()
            samplers = [
                threading.Thread(target=sample_rss, args=(web.pid, samples, done)),
                threading.Thread(target=pace_samples, args=(path, paces, done)),
            ]
            for sampler in samplers:
                sampler.start()
            seconds, share, deletion_id, wall = through_dashboard(
                session, base, path, form, len(ids)
            )
            done.set()
            for sampler in samplers:
                sampler.join()
            calls = api(url).get(f"{url}/_sandbox/stats", timeout=10).json()
            refused = {k: n - refused_before.get(k, 0) for k, n in refused_calls(base).items()}
            growth = max(samples, default=rss_before) - rss_before
            results.append((item_ms, seconds, share, calls, growth, refused, paces))
            if args.timeline:
                print(
                    f"budget {budget:g}/s, {item_ms} ms per image:\n"
                    + timeline(path, deletion_id, wall)
                )
            restore(url, ids)
    finally:
        stop(web)
    return results


def report(directs: dict[int, float], budget: float, runs: list) -> None:
    """A few lines per run of one web process."""
    for item_ms, seconds, share, calls, growth, refused, paces in runs:
        ratio = seconds / directs[item_ms]
        called = ", ".join(f"{n} {route}" for route, n in sorted(calls.items()))
        total, too_many = sum(calls.values()), sum(refused.values())
        print(
            f"max {budget:g}/s, API {item_ms} ms per image: direct {directs[item_ms]:.2f} s, "
            f"dashboard {seconds:.2f} s, ratio {ratio:.2f} (target ≤ 1.25); outcomes recorded "
            f"{share:.1%}; web RSS growth {growth:.0f} MB\n  upstream calls ({total}): {called}"
            f"\n  answered 429: {too_many} ({too_many / max(total, 1):.1%}; target ≤ 5 %)"
            f"\n  pace: " + ", ".join(f"{t:.1f} s {p:g}/s {why}" for t, p, why in paces[:12])
        )


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=1.0, help="WESOG_POLL_INTERVAL")
    parser.add_argument("--max-calls", default="200", help="WESOG_MAX_CALLS_PER_SECOND values")
    parser.add_argument("--start", type=float, default=10.0, help="WESOG_START_CALLS_PER_SECOND")
    parser.add_argument("--dialect", choices=("reference", "sandbox"), default="reference")
    parser.add_argument("--limit", type=float, default=0.0, help="sandbox: 429 above N calls/s")
    parser.add_argument("--item-ms", default=None, help="sandbox ms per image (default 0,0.1,1)")
    parser.add_argument("--inflight", type=int, default=4, help="WESOG_MAX_INFLIGHT_OPS")
    parser.add_argument(
        "--sparse", action="store_true", help="every other id: no run travels as one range"
    )
    parser.add_argument("--timeline", action="store_true", help="per chunk: sent, ended, recorded")
    args = parser.parse_args()
    args.budgets = [float(b) for b in args.max_calls.split(",")]
    if args.item_ms is None:
        args.item_ms = "0,0.1,1" if args.ids <= SLOW_LIMIT else "0"
    args.item_ms = [float(ms) for ms in args.item_ms.split(",")]
    return args


def main() -> None:
    """Run both ways and print the figures."""
    args = arguments()
    step = 2 if args.sparse else 1
    ids = [str(100001 + step * n) for n in range(args.ids)]
    sandbox_port = free_port()
    sandbox = serve("sandbox", sandbox_port, {}, str(step * args.ids + 10), "0", "0", KEY)
    url = f"http://127.0.0.1:{sandbox_port}"
    try:
        knobs(url, dialect=args.dialect)
        directs = {}
        for item_ms in args.item_ms:
            set_item_ms(url, item_ms)
            directs[item_ms] = direct(url, ids)
            restore(url, ids)
        print(
            f"{args.ids:,} ids, chunks of {CHUNK:,}; dashboard: poll interval {args.interval} s, "
            f"{args.inflight} operations in flight, no undo window; sandbox dialect "
            f"{args.dialect}, 429 above {args.limit or 'no'} calls/s; "
            f"pace starts at {args.start:g}/s; ids "
            + ("every other number" if args.sparse else "consecutive")
        )
        for budget in args.budgets:
            report(directs, budget, dashboard_runs(url, ids, budget, args))
    finally:
        stop(sandbox)


if __name__ == "__main__":
    main()
