"""The request budget: every upstream call of this process takes a slot of one moving window
(`WESOG_MAX_CALLS_PER_SECOND`), and a 429 pauses every call until its `Retry-After`.

Built on `limits` (already installed with Flask-Limiter): its moving window guarantees that no
window of one second ever holds more calls than the budget, which a plain token bucket
refilled continuously cannot promise at the window's edges.

Background work (the poller, the dispatcher, the resolution of a search) waits for a slot;
a web request never waits long: during a pause, or when no slot comes within a moment, its
call fails at once with `WesogRateLimited`, which pages already know how to tell.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import has_request_context
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..wesog import WesogRateLimited

KEY = "wesog-upstream"
FOREGROUND_WAIT = 2.0  # seconds a web request may wait for a slot
BACKGROUND_WAIT = 60.0  # seconds background work waits for a slot (then the call fails)
DEFAULT_PAUSE = 1.0  # seconds paused after a 429 without a usable Retry-After


def window_item(per_second: float) -> RateLimitItemPerSecond:
    """`per_second` as a moving-window item: 10 → 10 per second, 0.5 → 1 per 2 seconds."""
    if per_second >= 1:
        return RateLimitItemPerSecond(int(per_second), 1)
    return RateLimitItemPerSecond(1, max(1, round(1 / max(per_second, 0.001))))


class Budget:
    """One per process: slots of the moving window, and the pause a 429 asked for."""

    def __init__(self, per_second: float) -> None:
        self.per_second = float(per_second)
        self.item = window_item(self.per_second)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self._lock = threading.Lock()
        self._paused_until = 0.0  # Unix time
        self.calls = 0  # calls let through since start (for benchmarks and tests)

    # -- the pause ------------------------------------------------------------------------

    def pause(self, seconds: float | None) -> None:
        """Stop every call for `seconds` (a 429's Retry-After), never shortening a pause."""
        delay = seconds if seconds and seconds > 0 else DEFAULT_PAUSE
        with self._lock:
            self._paused_until = max(self._paused_until, time.time() + delay)

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when calls may go)."""
        with self._lock:
            return max(0.0, self._paused_until - time.time())

    def paused_until(self) -> datetime | None:
        """When the current pause ends (UTC), or None."""
        with self._lock:
            until = self._paused_until
        return datetime.fromtimestamp(until, UTC) if until > time.time() else None

    # -- slots ----------------------------------------------------------------------------

    def try_take(self) -> bool:
        """Take a slot now if one is free and no pause holds; never waits."""
        if self.paused_for() > 0 or not self.limiter.hit(self.item, KEY):
            return False
        with self._lock:
            self.calls += 1
        return True

    def free_slots(self) -> int:
        """How many calls could go right now without waiting."""
        if self.paused_for() > 0:
            return 0
        return int(self.limiter.get_window_stats(self.item, KEY).remaining)

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
        reset = self.limiter.get_window_stats(self.item, KEY).reset_time
        return max(0.005, reset - time.time())

    def _refusal(self, paused: float) -> str:
        if paused:
            until = self.paused_until()
            when = until.strftime("%H:%M:%S UTC") if until else "a moment"
            return f"the Wesog API asked us to slow down until {when}"
        return f"the console's request budget ({self.per_second:g} calls per second) is in use"

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
        """Called by the client on a 429: pause every call of this process."""
        self.pause(retry_after)
