"""The console's clock: wall time that a stepped wall clock does not move.

Every deadline of the console is a stored wall time compared with "now" later, often by
another process: an operation's last change (stale after WESOG_STALE_AFTER), its first 404
(lost after WESOG_LOST_AFTER), the next poll and every back-off, the reconcile grace, an
undo window, a chunk's claim, the SQLite lease. So "now" is the wall clock as it read when
this process started, advanced by the monotonic clock (Linux's CLOCK_BOOTTIME, which also
counts a suspend): a wall clock stepped an hour either way while the console runs moves no
deadline, and processes started before the step keep agreeing with each other. A process
started after a step reads the new wall time; on PostgreSQL the lease compares on the
database's own clock whatever the hosts' clocks say.

Imports nothing of the console (the bottom of the import graph).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_CLOCK_ID = getattr(time, "CLOCK_BOOTTIME", None)
_wall_step = 0.0  # seconds the wall clock is stepped by; tests set it (`set_wall_step`)


def wall() -> datetime:
    """This process's wall clock, as the operating system (or a test) has it now."""
    return datetime.now(UTC) + timedelta(seconds=_wall_step)


def monotonic() -> float:
    """Seconds on a clock that never steps (suspend included where the system counts it)."""
    return time.clock_gettime(_CLOCK_ID) if _CLOCK_ID is not None else time.monotonic()


_ANCHOR = (wall(), monotonic())


def now() -> datetime:
    """The console's current time, timezone-aware, in UTC (see the module's docstring)."""
    started_at, started = _ANCHOR
    return started_at + timedelta(seconds=monotonic() - started)


def set_wall_step(seconds: float) -> None:
    """For tests: the wall clock reads `seconds` off from the operating system's (0: back)."""
    global _wall_step
    _wall_step = float(seconds)
