"""Memory of a long-running process: cap glibc's malloc arenas, freeze the startup heap.

glibc gives each new thread that allocates its own arena, up to eight per core. Werkzeug's
server starts a thread per request and the poller starts short-lived helper threads, so
freed memory ends up scattered over many arenas and the resident size creeps up (the soak
measured +62 MB in 4 minutes with 50 viewers; +6 MB with two arenas). `MALLOC_ARENA_MAX`
does the same but only when set before the process starts; `mallopt` works from inside,
for arenas made after the call — create_app runs before any request thread exists.
"""

from __future__ import annotations

import ctypes
import gc
import os

M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas at `count` (0: leave alone); False where that isn't done."""
    if count <= 0 or "MALLOC_ARENA_MAX" in os.environ:
        return False  # an operator's own setting wins
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl, macOS): nothing to cap
    return bool(mallopt(M_ARENA_MAX, count))


def freeze_startup_heap() -> int:
    """Keep what exists now out of the garbage collector's sweeps; returns how many objects.

    Called once the process's app is built (app.py). Its modules, mappers and routes live as
    long as the process, yet each full collection walked all ~150,000 of them: 50–110 ms in
    which no thread of a gunicorn worker ran, and a handful of such pauses set the progress
    fragment's p95 (bench/fragments.py). What is made afterwards is collected as before.
    """
    gc.collect()  # garbage made while starting is freed, not kept forever
    gc.freeze()
    return gc.get_freeze_count()
