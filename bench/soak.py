"""Soak with faults: operations and deletions keep coming while 50 people watch, the API
fails now and then, and the database restarts once.

A driver keeps about 100 operations queued or running upstream (small batch adds, created
directly, so the dashboard discovers them); a deleter asks the console's API for a deletion
of two images every two seconds; 5 % of API requests answer 503; 50 logged-in viewers poll
what pages poll (an operation's progress, the running badge, the list) every second. The web
server and the poller run as separate processes. With DATABASE_URL naming a PostgreSQL
server, both reach a fresh database of their own through a proxy that is cut for 4 s at half
time (as a restart does: every connection dropped, new ones refused); on SQLite there is no
restart. Printed: RSS of both processes once warmed up and at the end, viewers' answers by
status (5xx inside and outside the restart), and the deletions: done, lost, sent twice.
Targets: growth < 20 MB, 0 answers >= 500 outside the restart, 0 lost, 0 sent twice.

    .venv/bin/python bench/soak.py [--minutes 60] [--viewers 50] [--ops 100] [--outage 4]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import requests
from _engines import fresh_database, postgresql_url
from _procs import free_port, memory_mb, poller, serve, stop
from _support import ROOT, logged_in_session, migrated_database
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.faults.cutting import CutProxy
from wesog_dash import accounts, create_app
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db

KEY = "bench-key"
FINAL = {"done", "done_with_errors", "rejected", "cancelled", "undone", "stopped"}


class Window:
    """When the database was away (monotonic seconds), plus the time it takes to come back."""

    def __init__(self) -> None:
        self.start = self.end = float("inf")

    def holds(self, moment: float, grace: float = 5.0) -> bool:
        """True when `moment` falls in the outage (or the few seconds after it)."""
        return self.start <= moment <= self.end + grace


def recent_op_ids(uri: str) -> list[int]:
    """Some operations the dashboard knows, newest first (read straight from the database)."""
    engine = create_engine(uri, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT op_id FROM operations ORDER BY op_id DESC LIMIT 50")
            )
            return [row[0] for row in rows]
    except Exception:  # the database is away (the restart): try again next round
        return []
    finally:
        engine.dispose()


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


def delete_cycle(base: str, token: str, stop_at: float, made: list[int], seen: Counter) -> None:
    """A deletion of two images every two seconds through the console's API."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    next_id = 100001
    while time.monotonic() < stop_at:
        body = {"image_ids": [str(next_id), str(next_id + 1)], "reason": "soak"}
        try:
            answer = session.post(f"{base}/api/v1/deletions", json=body, timeout=30)
            seen[f"delete {answer.status_code}"] += 1
            if answer.status_code == 202:
                made.append(answer.json()["id"])
                next_id += 2
        except requests.RequestException:
            seen["delete no answer"] += 1
        time.sleep(2.0)


def viewer(
    base: str, session: requests.Session, uri: str, stop_at: float, seen: Counter, outage: Window
) -> None:
    """Poll like an open tab: progress of a recent operation, the badge, the list."""
    headers = {"HX-Request": "true"}
    while time.monotonic() < stop_at:
        started = time.monotonic()
        op_ids = recent_op_ids(uri) or [1]
        for url in (f"/ops/{random.choice(op_ids)}/progress", "/ops/running", "/ops"):
            try:
                status = session.get(base + url, headers=headers, timeout=30).status_code
            except requests.RequestException:
                status = 599
            if status >= 500:
                status_key = "5xx in restart" if outage.holds(time.monotonic()) else "5xx"
            else:
                status_key = str(status)
            seen[status_key] += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def restart_once(proxy: CutProxy | None, at: float, seconds: float, outage: Window) -> None:
    """Cut the database off at `at` for `seconds` (when there is a proxy: PostgreSQL)."""
    if proxy is None:
        return
    time.sleep(max(0.0, at - time.monotonic()))
    outage.start = time.monotonic()
    proxy.cut()
    time.sleep(seconds)
    proxy.restore()
    outage.end = time.monotonic()


def operator_token(uri: str) -> str:
    """An operate token of a new operator, for the deleter."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "WESOG_POLLER": "off"})
    with app.app_context():
        user = accounts.create_user("deleter", "soak-password-1", "operator", actor="cli:bench")
        secret = tokens.issue_token(user, actor="cli:bench")
        db.engine.dispose()
    return secret


@contextlib.contextmanager
def database(viewers: int) -> Iterator[tuple[str, str, CutProxy | None]]:
    """(URL the bench reads, URL the processes use, the proxy to cut or None), migrated."""
    users = {f"viewer{n}": "viewer" for n in range(viewers)}
    if postgresql_url() is None:
        uri = migrated_database(users)
        yield uri, uri, None
        return
    with fresh_database("postgresql") as uri:
        migrated_database(users, uri)
        url = make_url(uri)
        proxy = CutProxy()
        port = proxy.start((url.host or "127.0.0.1", url.port or 5432))
        through = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        try:
            yield uri, through, proxy
        finally:
            proxy.cut()


def settled(base: str, token: str, made: list[int], wait: float) -> Counter:
    """The deletions' states, after up to `wait` seconds for them to end."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + wait
    while True:
        states: Counter[str] = Counter()
        for deletion_id in made:
            try:
                states[
                    session.get(f"{base}/api/v1/deletions/{deletion_id}", timeout=10)
                    .json()
                    .get("state", "?")
                ] += 1
            except (requests.RequestException, ValueError):
                states["?"] += 1
        if set(states) <= FINAL or time.monotonic() > deadline:
            return states
        time.sleep(1.0)


def main() -> None:
    """Run the soak and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--outage", type=float, default=4.0, help="seconds the database is away")
    args = parser.parse_args()
    sandbox = web = poll = None
    with database(args.viewers) as (uri, through, proxy):
        try:
            sandbox_port, web_port = free_port(), free_port()
            sandbox = serve("sandbox", sandbox_port, {}, "5000", "20", "20", KEY)
            url = f"http://127.0.0.1:{sandbox_port}"
            token = operator_token(uri)
            env = {
                "DATABASE_URL": through,
                "WESOG_API_URL": url,
                "WESOG_API_KEY": KEY,
                "SECRET_KEY": "bench",
                "WESOG_POLLER": "external",
            }
            web, poll = serve("web", web_port, env), poller(env)
            base = f"http://127.0.0.1:{web_port}"
            sessions = [logged_in_session(base, f"viewer{n}") for n in range(args.viewers)]
            began = time.monotonic()
            stop_at = began + args.minutes * 60
            outage, made, seen = Window(), [], Counter()
            helpers = [
                threading.Thread(target=drive, args=(url, args.ops, stop_at), daemon=True),
                threading.Thread(
                    target=delete_cycle, args=(base, token, stop_at, made, seen), daemon=True
                ),
                threading.Thread(
                    target=restart_once,
                    daemon=True,
                    args=(proxy, began + args.minutes * 30, args.outage, outage),
                ),
            ]
            for helper in helpers:
                helper.start()
            time.sleep(5)  # warm up: the first operations discovered, every session used once
            requests.patch(
                f"{url}/_sandbox/settings",
                json={"rate_5xx": 0.05},
                headers={"API-Key": KEY},
                timeout=10,
            )
            threads = [
                threading.Thread(target=viewer, args=(base, s, uri, stop_at, seen, outage))
                for s in sessions
            ]
            for thread in threads:
                thread.start()
            time.sleep(min(20.0, args.minutes * 60 / 4))  # warm-up: caches filled, pools grown
            start = {"web": memory_mb(web.pid), "poller": memory_mb(poll.pid)}
            for thread in threads:
                thread.join()
            end = {"web": memory_mb(web.pid), "poller": memory_mb(poll.pid)}
            requests.patch(
                f"{url}/_sandbox/settings",
                json={"rate_5xx": 0.0},
                headers={"API-Key": KEY},
                timeout=10,
            )
            states = settled(base, token, made, wait=120)
            # Delete operations the API created (a DELETE answered 503 created none).
            listed = requests.get(
                f"{url}/ops",
                params={"method": "del", "limit": 1},
                headers={"API-Key": KEY},
                timeout=10,
            )
            deletes = int(listed.headers.get("X-Total-Count", -1))
            lost = sum(n for state, n in states.items() if state not in FINAL)
            sent = sum(n for state, n in states.items() if state in ("done", "done_with_errors"))
            restart = (
                f"database cut off for {args.outage:g} s at {outage.start - began:.0f} s"
                if proxy is not None
                else "no database restart (SQLite; DATABASE_URL=postgresql+psycopg://… for one)"
            )
            print(
                f"{args.minutes:g} min, {args.viewers} viewers, ~{args.ops} operations cycling, "
                f"5 % upstream 503s; {restart}\n"
                f"web RSS: {start['web']:.1f} MB → {end['web']:.1f} MB "
                f"(growth {end['web'] - start['web']:+.1f} MB, target < 20)\n"
                f"poller RSS: {start['poller']:.1f} MB → {end['poller']:.1f} MB "
                f"(growth {end['poller'] - start['poller']:+.1f} MB, target < 20)\n"
                f"answers: {sum(seen.values())}, by status {dict(sorted(seen.items()))}; "
                f"≥ 500 outside the restart: {seen['5xx']} (target 0)\n"
                f"deletions: {len(made)} requested, states {dict(states)}; lost {lost} "
                f"(target 0); delete operations upstream {deletes} for {sent} sent deletions "
                f"(sent twice: {max(0, deletes - sent)}, target 0)"
            )
        finally:
            stop(poll, web, sandbox)


if __name__ == "__main__":
    assert ROOT  # bench/_support put the repository on sys.path (tests.faults.cutting)
    main()
