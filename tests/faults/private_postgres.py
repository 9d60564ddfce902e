"""A PostgreSQL server of the test's own (initdb in a temporary folder, its own port), so a
test can really stop and start it (`pg_ctl stop -m fast`, `pg_ctl start`) — a restart as an
operator's `pg_ctlcluster … restart` does it — without touching the server the other tests
share. The server runs as the `postgres` user (initdb refuses root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # newest first


def pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server program (`pg_ctl`, `initdb`), or None."""
    for directory in BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


def unavailable() -> str | None:
    """Why a private server cannot run here, or None when it can."""
    if pg_bin("pg_ctl") is None or pg_bin("initdb") is None:
        return "PostgreSQL's server programs (pg_ctl, initdb) are not installed"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres user to run a private server as"
    if os.geteuid() != 0:
        return "starting a server as the postgres user needs root"
    return None


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateCluster:
    """A throwaway PostgreSQL server: `start`, `stop` (fast: connections are terminated),
    `url` for its `postgres` database, `remove` at the end."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: its root-only folders would keep the postgres user out.
        self.folder = Path(tempfile.mkdtemp(prefix="wesog-test-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    @property
    def url(self) -> str:
        """The server's `postgres` database, over TCP on loopback."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.folder / "server.log")
        pg_ctl = pg_bin("pg_ctl")
        self._as_postgres(pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def start_if_stopped(self) -> None:
        """Start the server unless it runs (`pg_ctl status` answers 3 when it does not)."""
        status = [pg_bin("pg_ctl"), "-D", str(self.data), "status"]
        try:
            self._as_postgres(*status)
        except RuntimeError:
            self.start()

    def stop(self) -> None:
        """Stop the server the way a restart does: every connection terminated at once."""
        self._as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its files."""
        stop = [pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._as_postgres(*stop)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _as_postgres(self, *command: str | None) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *[str(part) for part in command]],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout}")
