"""The pace of upstream calls, found rather than configured: additive increase, multiplicative
decrease, like TCP's congestion control.

It starts at `WESOG_START_CALLS_PER_SECOND`. While calls are limited by the pace (the window
was at least half full, or a caller found no free slot) and the API answers quickly without
429 or 5xx, it rises: by one call per second for every call at first ("slow start", so it
doubles every second of full use), then, once the API has pushed back, by about one call per
second each second. A 429, a 503 (any 5xx), a time-out or an answer much slower than the usual
for its route cuts it in half at once — at most once per second, so that a burst of refusals
of calls already in flight counts as one. Latency is judged on reads of one object
(`GET /ops/{id}`, `GET /imgs/{id}`) only: a search or a list takes as long as its answer is
big. It never goes above `WESOG_MAX_CALLS_PER_SECOND`; a 429's `Retry-After` is obeyed by the
budget's pause, on top of the cut.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

FLOOR = 1.0  # calls per second the pace never goes below (unless the maximum is lower)
COOLDOWN = 1.0  # seconds between two cuts
SLOW_FACTOR, SLOW_MARGIN = 3.0, 0.25  # slower than 3 × the usual and 0.25 s more: a cut
SAMPLES_BEFORE_JUDGING = 5  # answers of a route before its latency can cut the pace
HISTORY = 600  # changes of the pace remembered (benchmarks print them)

# Why the pace is what it is (words for people in views/display.py).
START, RISING, MAXIMUM, STEADY = "pace_start", "pace_rising", "pace_maximum", "pace_steady"
CUT_429, CUT_5XX, CUT_TIMEOUT, CUT_SLOW = "pace_429", "pace_5xx", "pace_timeout", "pace_slow"
REASONS = (START, RISING, MAXIMUM, STEADY, CUT_429, CUT_5XX, CUT_TIMEOUT, CUT_SLOW)


@dataclass(frozen=True)
class PaceNow:
    """The pace at one moment, and why."""

    per_second: float
    reason: str
    since: float  # Unix time of the last change


class Pace:
    """The AIMD controller of one process (thread-safe)."""

    def __init__(self, start: float, ceiling: float) -> None:
        self.ceiling = max(0.001, float(ceiling))
        self.floor = min(FLOOR, self.ceiling)
        self.rate = max(self.floor, min(float(start), self.ceiling))
        self.threshold = self.ceiling  # slow start up to here; raised additively above
        self.reason, self.since = START, time.time()
        self.history: deque[tuple[float, float, str]] = deque(maxlen=HISTORY)
        self._lock = threading.Lock()
        self._last_cut = float("-inf")
        self._latency: dict[str, tuple[float, int]] = {}  # route -> (EWMA seconds, samples)
        self._noted = self.rate
        self._note()

    def now(self) -> PaceNow:
        """The current pace and its reason."""
        with self._lock:
            return PaceNow(self.rate, self.reason, self.since)

    def answered(self, route: str | None, seconds: float, busy: bool) -> None:
        """A call was answered (not 429 nor 5xx). `route`: a GET's route, to judge latency."""
        with self._lock:
            if route is not None and self._slower(route, seconds):
                self._cut(CUT_SLOW)
                return
            if not busy or self.rate >= self.ceiling:
                if self.rate >= self.ceiling and self.reason != MAXIMUM:
                    self._set(self.ceiling, MAXIMUM)
                return
            step = 1.0 if self.rate < self.threshold else 1.0 / self.rate
            rate = min(self.ceiling, self.rate + step)
            self._set(rate, MAXIMUM if rate >= self.ceiling else RISING)

    def refused(self, reason: str) -> None:
        """A 429, a 5xx or a time-out (`reason` one of the CUT_ codes): cut the pace."""
        with self._lock:
            self._cut(reason)

    def _cut(self, reason: str) -> None:
        now = time.monotonic()
        if now - self._last_cut < COOLDOWN:
            return  # the calls already in flight were sent at the old pace
        self._last_cut = now
        self.threshold = max(self.floor, self.rate / 2)
        self._set(self.threshold, reason)

    def _slower(self, route: str, seconds: float) -> bool:
        """Note one answer's time; True when it is much slower than the route's usual."""
        usual, samples = self._latency.get(route, (seconds, 0))
        slow = samples >= SAMPLES_BEFORE_JUDGING and seconds > max(
            SLOW_FACTOR * usual, usual + SLOW_MARGIN
        )
        self._latency[route] = (0.8 * usual + 0.2 * seconds, samples + 1)
        return slow

    def _set(self, rate: float, reason: str) -> None:
        if reason != self.reason:
            self.since = time.time()
        changed = reason != self.reason or abs(rate - self._noted) >= 1
        self.rate, self.reason = rate, reason
        if changed:
            self._note()

    def _note(self) -> None:
        self._noted = self.rate
        self.history.append((time.time(), self.rate, self.reason))
