"""What this process has learned the API accepts, so that a fallback is chosen once, not per call.

Reading many images at once (wesog-api.md §5.2): the reference gives the `id` filter the `∩`
operator but never the format of its list, and documents `||` composition. So the reader
(`many.py`) tries, in order, an `∩` list (`id∩a,b`), an `||` chain (`id=a||id=b`) and single
`GET /imgs/{id}` calls, with a small probe first. What worked, and the longest formula the API
took (in encoded characters), stay here for the life of the process; an error with a formula
of a size that worked before means the API changed: everything is forgotten and probed again.

`GET /ops`: the reference documents a bare array; an API that pages says so with
`X-Total-Count`. `ops_paged` is None until a paged read told either way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MODES = ("list", "or", "single")  # the ways of reading many images, best first
FORMULA_CHARS = 6500  # the longest formula tried: the request line stays under 8 KB


@dataclass
class IdsCapability:
    """How many images' metadata is read at once."""

    mode: str | None = None  # one of MODES; None: probe before the next read
    longest: dict[str, int] = field(default_factory=dict)  # chars of a formula accepted
    cap: dict[str, int] = field(default_factory=dict)  # chars tried at most (halved on refusal)
    probes: int = 0  # probe calls made (for tests and benchmarks)
    forgotten: int = 0  # times everything was forgotten after an error

    def limit(self, mode: str) -> int:
        """The longest formula to try now in `mode`, in encoded characters."""
        return self.cap.get(mode, FORMULA_CHARS)


class Capabilities:
    """One per client (so one per process): the learned capabilities, behind a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = IdsCapability()
        self.ops_paged: bool | None = None

    def worked(self, mode: str, chars: int) -> None:
        """A formula of `chars` characters was answered in `mode`."""
        with self.lock:
            self.ids.mode = mode
            self.ids.longest[mode] = max(self.ids.longest.get(mode, 0), chars)

    def refused(self, mode: str, chars: int) -> None:
        """The API refused a formula of `chars` characters in `mode`.

        Refused at a size that worked before: the API changed, so everything is forgotten (the
        next read probes again). Otherwise formulas are halved, never below what worked.
        """
        with self.lock:
            longest = self.ids.longest.get(mode, 0)
            if chars <= longest:
                self._forget()
            else:
                self.ids.cap[mode] = max(longest, chars // 2)

    def failed(self) -> None:
        """An error that is no refusal (5xx, time-out, a strange answer): probe next time."""
        with self.lock:
            self._forget()

    def _forget(self) -> None:
        self.ids.mode = None
        self.ids.longest.clear()
        self.ids.cap.clear()
        self.ids.forgotten += 1

    def use(self, mode: str) -> None:
        """A probe chose `mode` (the first that worked)."""
        with self.lock:
            self.ids.mode = mode

    def counted_probe(self) -> None:
        """One probe call was made."""
        with self.lock:
            self.ids.probes += 1
