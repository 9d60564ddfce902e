"""`flask --app app wesog sandbox`: the standalone sandbox, as a newcomer would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_standalone_sandbox_serves_images_and_runs_a_delete(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "FLASK_APP": "app", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    command = [sys.executable, "-m", "flask", "wesog", "sandbox", "--port", str(port)]
    command += ["--api-key", "KEY", "--images", "30", "--item-ms", "50", "--start-ms", "50"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    base, headers = f"http://127.0.0.1:{port}", {"API-Key": "KEY"}

    def reachable() -> bool:
        try:
            return requests.get(f"{base}/imgs?limit=5", headers=headers, timeout=1).ok
        except requests.ConnectionError:
            return False

    try:
        wait_for(reachable, timeout=20, interval=0.1)
        listing = requests.get(f"{base}/imgs?limit=5", headers=headers, timeout=5).json()
        assert len(listing["results"]) == 5 and listing["count"] == 30
        accepted = requests.delete(f"{base}/imgs/100001", headers=headers, timeout=5)
        assert accepted.status_code == 202
        op_id = accepted.json()["op_id"]

        def finished() -> dict | None:
            op = requests.get(f"{base}/ops/{op_id}", headers=headers, timeout=5).json()
            return op if op["is_finished"] else None

        op = wait_for(finished, timeout=10)
        assert op["num_good"] == 1 and op["idle_ms"] > 0 and op["exec_ms"] > 0
        assert requests.get(f"{base}/imgs?limit=1", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
