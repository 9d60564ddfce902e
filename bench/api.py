"""The scripting path at its limits: 10,000 ids through the CLI and the API, and list pages.

Writes one 10,000-id deletion with `flask wesog delete --ids-file` (in-process CLI runner),
another with `POST /api/v1/deletions` (text/plain), pages through the 10,000 items of one
(`/deletions/{id}/items`, 1,000 a page), and compares p50/p95 of API list pages with
`/healthz` served by the same werkzeug server. Figures are printed as rates and ratios.

    .venv/bin/python bench/api.py [--ids 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import requests
from _support import create_app, migrated_database, percentile, start_sandbox
from werkzeug.serving import make_server

from wesog_dash import accounts
from wesog_dash.accounts import tokens


def timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def latencies(session: requests.Session, url: str, count: int) -> list[float]:
    """Milliseconds of `count` sequential GETs of `url` (each must answer 200)."""
    found = []
    for _ in range(count):
        seconds, response = timed(session.get, url, timeout=10)
        assert response.status_code == 200, (url, response.status_code)
        found.append(seconds * 1000)
    return found


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    sandbox = start_sandbox(images=500, item_ms=0, start_ms=0)
    uri = migrated_database({"bench-op": "operator"})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": "bench-key",
        }
    )
    with app.app_context():
        token = tokens.issue(accounts.get_user("bench-op"), actor="cli:bench").token
    ids = "\n".join(str(300000 + n) for n in range(args.ids))
    ids_file = Path(tempfile.mkdtemp()) / "ids.txt"
    ids_file.write_text(ids)
    command = ["wesog", "delete", "--ids-file", str(ids_file), "--reason", "bench", "--yes"]
    cli_s, result = timed(app.test_cli_runner().invoke, args=[*command, "--json"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api_s, response = timed(
        session.post,
        f"{base}/api/v1/deletions?reason=bench",
        data=ids.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=120,
    )
    assert response.status_code == 202, response.text[:300]
    deletion_id, after, pages = response.json()["id"], None, 0
    start = time.perf_counter()
    while True:
        query = f"?limit=1000{'' if after is None else f'&after={after}'}"
        page = session.get(f"{base}/api/v1/deletions/{deletion_id}/items{query}", timeout=30)
        pages, after = pages + 1, page.json()["next_after"]
        if after is None:
            break
    paging_s = time.perf_counter() - start
    print(f"CLI delete --ids-file, {args.ids:,} ids: {cli_s:.2f} s ({args.ids / cli_s:,.0f} ids/s)")
    print(f"API POST text/plain, {args.ids:,} ids: {api_s:.2f} s ({args.ids / api_s:,.0f} ids/s)")
    print(
        f"API items, {pages} pages of 1,000: {paging_s:.2f} s ({args.ids / paging_s:,.0f} items/s)"
    )
    health = latencies(session, f"{base}/healthz", args.requests)
    p95_health = percentile(health, 0.95)
    print(f"/healthz p50 {percentile(health, 0.5):.1f} ms / p95 {p95_health:.1f} ms")
    for path in ("/api/v1/ops?limit=50", "/api/v1/deletions?limit=50", "/api/v1/audit/events"):
        found = latencies(session, base + path, args.requests)
        p50, p95 = percentile(found, 0.5), percentile(found, 0.95)
        ratio = p95 / p95_health
        print(f"{path} p50 {p50:.1f} ms / p95 {p95:.1f} ms — p95 ratio to /healthz {ratio:.2f}")
    server.shutdown()
    sandbox.stop()


if __name__ == "__main__":
    main()
