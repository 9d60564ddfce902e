"""Timings of the sandbox at console scale, printed, never asserted (not collected by pytest).

Run: `python -m tests.sandbox.bench_scale [images]` from the repository root (default 100,000).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from wesog_dash.sandbox import SandboxServer, SandboxSettings

KEY = "bench-key"


def timed(label: str, action: Callable[[], Any]) -> Any:
    """Run `action`, print how long it took, return its result."""
    started = time.perf_counter()
    result = action()
    print(f"{label:<58} {time.perf_counter() - started:8.3f} s")
    return result


def _ok(response: requests.Response) -> Any:
    assert response.ok, response.text[:200]
    return response.json()


def bench_images(sandbox: SandboxServer, http: requests.Session, images: int) -> None:
    """Paging every image, id searches, a 10,000-id batch delete."""
    url = sandbox.url

    def page_all() -> int:
        pages = range(1, images // 10_000 + 2)
        return sum(
            len(_ok(http.get(f"{url}/imgs", params={"page": p, "limit": 10_000}))["results"])
            for p in pages
        )

    seen = timed(f"GET /imgs limit=10000, every page ({images} images)", page_all)
    assert seen == images
    ids = [str(100001 + n) for n in range(0, images, max(1, images // 1000))][:1000]
    q = "id∩" + ",".join(ids)
    timed("GET /imgs q=id∩ of 1,000 ids", lambda: _ok(http.get(f"{url}/imgs", params={"q": q})))
    q = " || ".join(f"id={i}" for i in ids[:500])
    timed(
        "GET /imgs q=id=a || id=b ... of 500 ids", lambda: http.get(f"{url}/imgs", params={"q": q})
    )
    doomed = [str(100001 + n) for n in range(1, images, 2)][:10_000]
    op = timed(
        "DELETE /imgs?wait=true of 10,000 ids (item_ms=0)",
        lambda: _ok(http.delete(f"{url}/imgs", params={"wait": "true"}, json=doomed)),
    )
    print(f"{'  of which exec_ms (worker)':<58} {op['exec_ms'] / 1000:8.3f} s")


def bench_ops(sandbox: SandboxServer, http: requests.Session, count: int) -> None:
    """`GET /ops` with `count` finished ops and 1,000 queued ones, then releasing them."""
    url = sandbox.url
    body = {"count": count, "method": "del", "state": "finished"}
    timed(
        f"POST /_sandbox/ops/bulk {count} finished",
        lambda: _ok(http.post(f"{url}/_sandbox/ops/bulk", json=body)),
    )
    _ok(http.patch(f"{url}/_sandbox/settings", json={"hold": True}))
    body = {"count": 1000, "method": "del", "state": "queued"}
    timed(
        "POST /_sandbox/ops/bulk 1,000 queued (hold)",
        lambda: _ok(http.post(f"{url}/_sandbox/ops/bulk", json=body)),
    )
    for params in (
        {"limit": 1000},
        {"page": 50, "limit": 1000},
        {"state": "unfinished", "limit": 1000},
        {"state": "finished", "method": "del", "limit": 1000},
        {"since_op_id": count, "limit": 1000},
        {"before_op_id": count // 2, "limit": 1000},
    ):
        label = "GET /ops " + "&".join(f"{k}={v}" for k, v in params.items())
        timed(label, lambda p=params: _ok(http.get(f"{url}/ops", params=p)))
    timed(f"GET /ops bare (all {count + 1000} ops)", lambda: _ok(http.get(f"{url}/ops")))

    def release() -> None:
        _ok(http.patch(f"{url}/_sandbox/settings", json={"hold": False}))
        while _ok(http.get(f"{url}/ops", params={"state": "unfinished", "limit": 1})):
            time.sleep(0.01)

    timed("release hold, until 1,000 queued ops finished", release)


def main() -> None:
    """Seed, then run both benches on one sandbox."""
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    settings = SandboxSettings(api_key=KEY, images=images, item_ms=0, start_ms=0)
    sandbox = timed(f"seed {images} images and start", lambda: SandboxServer(settings).start())
    with requests.Session() as http:
        http.headers["API-Key"] = KEY
        bench_images(sandbox, http, images)
        bench_ops(sandbox, http, 100_000)
    sandbox.stop()


if __name__ == "__main__":
    main()
