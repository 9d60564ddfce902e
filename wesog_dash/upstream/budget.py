"""The request budget: every upstream call of this process takes a slot of one moving window
whose size is the adaptive pace (`pace.py`: from `WESOG_START_CALLS_PER_SECOND`, never above
`WESOG_MAX_CALLS_PER_SECOND`), and a 429 pauses every call until its `Retry-After`.

The moving window guarantees that no window of one second ever holds more calls than the pace,
which a plain token bucket refilled continuously cannot promise at the window's edges.

Background work (the poller, the dispatcher, the resolution of a search) waits for a slot;
a web request never waits long: during a pause, or when no slot comes within a moment, its
call fails at once with `WesogRateLimited`, which pages already know how to tell.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime

from flask import has_request_context

from .. import clock
from ..wesog import WesogRateLimited
from .pace import CUT_5XX, CUT_429, CUT_TIMEOUT, Pace, PaceNow

FOREGROUND_WAIT = 2.0  # seconds a web request may wait for a slot
BACKGROUND_WAIT = 60.0  # seconds background work waits for a slot (then the call fails)
DEFAULT_PAUSE = 1.0  # seconds paused after a 429 without a usable Retry-After
BUSY_FOR = 1.0  # seconds a half-full window counts as "the pace is what limits us"


def window_of(per_second: float) -> tuple[int, float]:
    """`per_second` as (calls, seconds) of a moving window: 10 → 10 in 1 s, 0.5 → 1 in 2 s."""
    if per_second >= 1:
        return int(per_second), 1.0
    return 1, float(max(1, round(1 / max(per_second, 0.001))))


class Budget:
    """One per process: slots of the moving window, the pace, and the pause a 429 asked for."""

    def __init__(self, per_second: float, start: float | None = None) -> None:
        self.pace = Pace(per_second if start is None else start, per_second)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()  # monotonic times of the calls in the window
        self._paused_until = 0.0  # Unix time
        self._busy_until = 0.0  # monotonic
        self.calls = 0  # calls let through since start (for benchmarks and tests)

    @property
    def per_second(self) -> float:
        """The current pace, in calls per second."""
        return self.pace.now().per_second

    def pace_now(self) -> PaceNow:
        """The current pace and why."""
        return self.pace.now()

    # -- the pause ------------------------------------------------------------------------

    def pause(self, seconds: float | None) -> None:
        """Stop every call for `seconds` (a 429's Retry-After), never shortening a pause."""
        delay = seconds if seconds and seconds > 0 else DEFAULT_PAUSE
        with self._lock:
            self._paused_until = max(self._paused_until, _now() + delay)

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when calls may go)."""
        with self._lock:
            return max(0.0, self._paused_until - _now())

    def paused_until(self) -> datetime | None:
        """When the current pause ends (UTC), or None."""
        with self._lock:
            until = self._paused_until
        return datetime.fromtimestamp(until, UTC) if until > _now() else None

    # -- slots ----------------------------------------------------------------------------

    def _window(self, now: float) -> tuple[int, float]:
        """(calls allowed, seconds) of the window now, after dropping the calls it left."""
        allowed, span = window_of(self.pace.now().per_second)
        while self._sent and self._sent[0] <= now - span:
            self._sent.popleft()
        return allowed, span

    def try_take(self) -> bool:
        """Take a slot now if one is free and no pause holds; never waits."""
        if self.paused_for() > 0:
            return False
        now = time.monotonic()
        with self._lock:
            allowed, _ = self._window(now)
            if len(self._sent) >= allowed:
                self._busy_until = now + BUSY_FOR
                return False
            self._sent.append(now)
            if 2 * len(self._sent) >= allowed:
                self._busy_until = now + BUSY_FOR
            self.calls += 1
        return True

    def free_slots(self) -> int:
        """How many calls could go right now without waiting (none: the pace is what limits)."""
        if self.paused_for() > 0:
            return 0
        now = time.monotonic()
        with self._lock:
            allowed, _ = self._window(now)
            free = max(0, allowed - len(self._sent))
            if free == 0:
                self._busy_until = now + BUSY_FOR  # someone wanted a call and found no room
            return free

    def take(self, wait: float) -> None:
        """Wait up to `wait` seconds for a slot; WesogRateLimited when none comes in time."""
        deadline = time.monotonic() + wait
        while True:
            paused = self.paused_for()
            if paused <= 0 and self.try_take():
                return
            delay = paused or self._until_free()
            if time.monotonic() + delay > deadline:
                raise WesogRateLimited(self._refusal(paused), paused or delay)
            time.sleep(min(delay, 0.25))

    def _until_free(self) -> float:
        with self._lock:
            _, span = self._window(time.monotonic())
            oldest = self._sent[0] if self._sent else time.monotonic() - span
        return max(0.002, oldest + span - time.monotonic())

    def _refusal(self, paused: float) -> str:
        if paused:
            until = self.paused_until()
            when = until.strftime("%H:%M:%S UTC") if until else "a moment"
            return f"the Wesog API asked us to slow down until {when}"
        return f"the console's request pace ({self.per_second:.0f} calls per second) is in use"

    # -- the client's hooks ---------------------------------------------------------------

    def before_call(self) -> None:
        """Called by the client before each request: web requests wait little, others more.

        During a pause a web request fails at once: it must not hold a worker for it.
        """
        if not has_request_context():
            self.take(BACKGROUND_WAIT)
            return
        paused = self.paused_for()
        if paused > 0:
            raise WesogRateLimited(self._refusal(paused), paused)
        self.take(FOREGROUND_WAIT)

    def rate_limited(self, retry_after: float | None) -> None:
        """Called by the client on a 429: pause every call of this process, cut the pace."""
        self.pace.refused(CUT_429)
        self.pause(retry_after)

    def completed(self, route: str | None, seconds: float, trouble: str | None) -> None:
        """Called by the client after each answer (or failure) other than a 429.

        `trouble`: "5xx" (or unreachable) or "timeout", else None; `route` is given for
        reads, whose time says whether the API is getting slower.
        """
        if trouble == "timeout":
            self.pace.refused(CUT_TIMEOUT)
        elif trouble is not None:
            self.pace.refused(CUT_5XX)
        else:
            self.pace.answered(route, seconds, time.monotonic() < self._busy_until)


def _now() -> float:
    """Seconds since the epoch on the console's clock: a stepped wall clock stretches no pause."""
    return clock.now().timestamp()
