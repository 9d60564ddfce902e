"""The process's memory: threads of a capped process share two malloc arenas instead of one
each, and the heap built at startup is kept out of the garbage collector's full sweeps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Sixteen threads allocate at once; glibc's malloc_info then lists one <heap> per arena.
PROBE = """
import ctypes, sys, tempfile, threading
from wesog_dash.memory import limit_malloc_arenas
if sys.argv[1] == "capped":
    assert limit_malloc_arenas(2)
barrier = threading.Barrier(16)
def work():
    barrier.wait()
    kept = [bytearray(4096) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    handle = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(handle))
    libc.fclose(ctypes.c_void_p(handle))
    print(open(out.name).read().count("<heap nr="))
"""


def arenas(mode: str) -> int:
    """Arenas a fresh interpreter ends with after the probe, capped or not."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_capped_process_keeps_two_arenas_where_an_uncapped_one_makes_more() -> None:
    """The cap create_app applies (WESOG_MALLOC_ARENAS=2) holds with sixteen busy threads."""
    assert arenas("capped") <= 2
    assert arenas("free") > 2


def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """With MALLOC_ARENA_MAX set, or a cap of 0, the console leaves glibc alone."""
    from wesog_dash.memory import limit_malloc_arenas

    assert limit_malloc_arenas(0) is False
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False


def test_the_served_app_keeps_its_startup_heap_out_of_full_collections(tmp_path) -> None:
    """What gunicorn and `flask` load (app.py) is frozen once built: a full collection walks
    what requests made since, not the ~150,000 objects of the modules and the app."""
    probe = "import gc, app; print(gc.get_freeze_count(), len(gc.get_objects(generation=2)))"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}", "SECRET_KEY": "x"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    frozen, swept = map(int, done.stdout.split())
    assert frozen > 50_000 and swept < frozen / 100
