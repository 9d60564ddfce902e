"""Idle live lists under 50 polling clients, next to a trivial route (issue 9).

The dashboard runs under gunicorn (2 workers × 8 threads) against the sandbox. A finished
deletion is on record and nothing runs. 50 clients poll the live lists as the pages do —
a third each `/ops/list`, `/overview/live` and the image grid's watcher `/images/cards` (24
cards) — each sending back the version its page was rendered with (`v`; the cards' state
digests), so every answer is "nothing changed" (204, nothing rendered). 5 clients hit
`/healthz` (no database, no login) at the same time. PostgreSQL is measured after SQLite when
DATABASE_URL names a server. Target: p95 of the `/ops` list and the
overview ≤ 1.5 × trivial p95; the grid's watcher and all three together are printed too.

    .venv/bin/python bench/lists.py [--seconds 15] [--clients 50] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import re
import time
from html import unescape
from typing import Any

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

VERSION = re.compile(r"hx-vals='\{\"v\": \"([^\"]+)\"\}'")
CSRF = re.compile(r"\"X-CSRFToken\": \"([^\"]+)\"")
SINCE = re.compile(r"hx-post=\"/images/cards\"[^>]*hx-vals='\{\"since\": \"(\d+)\"\}'")
# What the watcher's hx-include sends: each card's hidden n, id and t, in page order.
WATCHED = re.compile(r'<input type="hidden" name="(n|id|t)" value="([^"]*)" data-card-watched>')


def poll_204(
    session: requests.Session,
    url: str,
    stop_at: float,
    interval: float,
    out: list,
    form: list | None = None,
    csrf: str = "",
) -> None:
    """GET `url` (POST `form`, for the grid's watcher) every `interval` s until `stop_at`;
    each answer must be 200 or 204."""
    headers = {"HX-Request": "true", **({"X-CSRFToken": csrf} if csrf else {})}
    next_at = time.monotonic() + interval * (hash(url + str(id(session))) % 100) / 100
    while next_at < stop_at:
        time.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        if form is None:
            response = session.get(url, headers=headers, timeout=30)
        else:
            response = session.post(url, data=form, headers=headers, timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code not in (200, 204):
            raise SystemExit(f"{url} answered {response.status_code}")
        out.append(elapsed)
        next_at += interval


def finish_one_deletion(uri: str, sandbox_url: str, key: str) -> None:
    """A small deletion, sent by the server's poller; wait until it is final."""
    from wesog_dash import deletions

    config = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "WESOG_API_URL": sandbox_url,
        "WESOG_API_KEY": key,
        "WESOG_POLLER": "off",
        "SECRET_KEY": "bench",
    }
    app = create_app(config)
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ["100001", "100002", "100003"],
            deletions.DeletionOptions("before the idle lists"),
            deletions.Requester("cli:bench"),
        ).id

    def final() -> bool:
        with app.app_context():
            row = deletions.get_deletion(deletion_id)
            return row is not None and row.state in ("done", "done_with_errors", "rejected")

    wait_until(final, timeout=60)
    time.sleep(1.5)  # the poller's last writes for it are done


def live_url(session: requests.Session, base_url: str, n: int) -> tuple[str, str, Any]:
    """A list kind, its polled URL with the version the page was rendered with, and (for the
    grid's watcher, a POST) its form and CSRF token."""
    if n % 3 == 2:
        html = session.get(f"{base_url}/images", timeout=30).text
        since, csrf = SINCE.search(html), CSRF.search(html)
        assert since and csrf, "/images carries no watcher"
        form = [("since", since.group(1))]
        form += [(name, unescape(value)) for name, value in WATCHED.findall(html)]
        return "/images/cards", f"{base_url}/images/cards", (form, csrf.group(1))
    page, live = ("/ops", "/ops/list") if n % 3 == 0 else ("/", "/overview/live")
    found = VERSION.search(session.get(base_url + page, timeout=10).text)
    assert found, f"{page} carries no list version"
    return live, f"{base_url}{live}?v={found.group(1)}", (None, "")


def measure(base_url: str, sessions: list[requests.Session], args: argparse.Namespace) -> None:
    """Poll the lists with their versions next to /healthz; print the figures."""
    urls = [live_url(session, base_url, n) for n, session in enumerate(sessions)]
    lists: dict[str, list[float]] = {kind: [] for kind, _, _ in urls}
    trivial: list[float] = []
    stop_at = time.monotonic() + args.seconds
    healthz = (f"{base_url}/healthz", stop_at, args.interval / 5, trivial)
    run_concurrently(
        [
            (poll_204, (s, url, stop_at, args.interval, lists[kind], *post))
            for s, (kind, url, post) in zip(sessions, urls, strict=True)
        ]
        + [(poll_204, (requests.Session(), *healthz)) for _ in range(5)]
    )
    print(f"gunicorn 2 workers × 8 threads; nothing running; {args.seconds:.0f} s")
    print(f"  ({args.clients} clients every {args.interval} s, a third on each list)")
    for kind, latencies in lists.items():
        print(f"  {kind:45s} {summary_ms(latencies)}")
    print(f"  {'trivial /healthz (5 clients)':45s} {summary_ms(trivial)}")
    trivial_p95 = percentile(trivial, 0.95)
    named = lists["/ops/list"] + lists["/overview/live"]  # the lists issue 9's target names
    ratio = percentile(named, 0.95) / trivial_p95
    verdict = "OK" if ratio <= 1.5 else "MISSED"
    print(
        f"  /ops/list + /overview/live p95 / trivial p95 = {ratio:.2f} (target ≤ 1.50): {verdict}"
    )
    everything = [latency for latencies in lists.values() for latency in latencies]
    print(f"  all three lists p95 / trivial p95 = {percentile(everything, 0.95) / trivial_p95:.2f}")
    grid = percentile(lists["/images/cards"], 0.95) / trivial_p95
    print(f"  image grid watcher p95 / trivial p95 = {grid:.2f} (reads its cards on every poll)")


def main() -> None:
    """Parse the arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5)
    run(parser.parse_args())


def run(args: argparse.Namespace) -> None:
    """On each engine (PostgreSQL too when DATABASE_URL names one): start a sandbox and the
    console, finish one deletion, measure, print."""
    for engine in engines():
        print(f"{engine}:")
        sandbox = start_sandbox(images=20, item_ms=20, start_ms=0)
        try:
            with fresh_database(engine) as empty:
                uri = migrated_database({"watcher": "viewer"}, empty)
                with gunicorn_serving(uri, sandbox) as base_url:
                    sessions = [logged_in_session(base_url, "watcher") for _ in range(args.clients)]
                    finish_one_deletion(uri, sandbox.url, sandbox.settings.api_key)
                    measure(base_url, sessions, args)
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
