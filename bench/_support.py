"""What the benchmarks share: a sandbox, a migrated database, a logged-in HTTP session."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _procs import free_port  # noqa: E402

from wesog_dash import create_app  # noqa: E402
from wesog_dash.sandbox import SandboxServer, SandboxSettings  # noqa: E402

PASSWORD = "bench password 123"


def start_sandbox(**knobs: Any) -> SandboxServer:
    """A sandbox on a free loopback port with the given knobs."""
    settings = SandboxSettings(api_key="bench-key", **knobs)
    return SandboxServer(settings, host="127.0.0.1", port=0).start()


def migrated_database(users: dict[str, str], uri: str | None = None) -> str:
    """Every migration applied to `uri` (default: a new SQLite file) and `users` created."""
    from flask_migrate import upgrade

    from wesog_dash import accounts
    from wesog_dash.extensions import db

    if uri is None:
        uri = f"sqlite:///{Path(tempfile.mkdtemp(prefix='wesog-bench-')) / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "WESOG_POLLER": "off"})
    with app.app_context():
        upgrade()
        for name, role in users.items():
            accounts.create_user(name, PASSWORD, role, actor="cli:bench")
        db.engine.dispose()
    return uri


# A page's CSRF token: htmx sends it from <body hx-headers>, forms carry it in a hidden input.
CSRF_TOKEN = re.compile(
    r'"X-CSRFToken": "([^"]+)"|name="csrf_token" (?:type="hidden" )?value="([^"]+)"'
)


def csrf_token(page: str) -> str:
    """The CSRF token of a rendered page (AssertionError when it has none)."""
    found = CSRF_TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


def logged_in_session(base_url: str, username: str) -> requests.Session:
    """A requests session logged in through the real /login form."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    response = session.post(
        f"{base_url}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, f"login failed: {response.status_code}"
    return session


def wait_until(condition: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll `condition` until truthy or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"gave up waiting after {timeout} s")


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` percentile (0..1) of `samples`, by nearest rank."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def summary_ms(samples: list[float]) -> str:
    """p50/p95/max of latencies given in seconds, printed in ms."""
    return (
        f"n={len(samples):5d}  p50={statistics.median(samples) * 1000:7.1f} ms  "
        f"p95={percentile(samples, 0.95) * 1000:7.1f} ms  max={max(samples) * 1000:7.1f} ms"
    )


def run_concurrently(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    """Run each (function, args) in its own thread and wait for all of them."""
    threads = [threading.Thread(target=function, args=args) for function, args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def server_up(base_url: str) -> bool:
    """True once the server answers /healthz."""
    try:
        return requests.get(f"{base_url}/healthz", timeout=1).ok
    except requests.RequestException:  # not listening yet, or workers still booting
        return False


@contextmanager
def gunicorn_serving(uri: str, sandbox: SandboxServer) -> Iterator[str]:
    """The console under gunicorn (2 workers × 8 threads, its poller in a thread) on `uri`,
    talking to `sandbox`; yields its base URL and stops it afterwards."""
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
        wait_until(lambda: server_up(base_url), timeout=30)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
