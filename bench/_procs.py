"""Child processes of the benchmarks and what /proc says about them (CPU, memory)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    """Start a child process of this Python, its output in a temporary log file."""
    log = Path(tempfile.gettempdir()) / f"wesog-bench-{name}.log"
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env={**os.environ, **env}, stdout=handle, stderr=handle
    )


def serve(kind: str, port: int, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    """`bench/_serve.py KIND PORT …`, waited for until it answers."""
    process = spawn([str(ROOT / "bench" / "_serve.py"), kind, str(port), *extra], env, kind)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except requests.RequestException:
            if process.poll() is not None:
                raise SystemExit(f"{kind} exited with {process.returncode}") from None
            time.sleep(0.1)
    raise SystemExit(f"{kind} did not start")


def poller(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`flask --app app wesog poll` with `env`."""
    return spawn(["-m", "flask", "--app", "app", "wesog", "poll"], env, "poller")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mb(pid: int, key: str = "VmRSS") -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop(*processes: subprocess.Popen[bytes] | None) -> None:
    """Terminate the children and wait for them."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is not None:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
