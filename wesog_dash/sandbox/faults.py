"""One-shot network and protocol faults of the sandbox, queued per route (tests and demos).

A fault is armed for a route key such as "DELETE /imgs/{image_id}" and spent by the next
request(s) to that route:

- `reset_before`: the connection is cut before the request is handled (no operation created);
- `reset_after`: the request is handled (the operation exists), then the connection is cut
  before the answer is sent;
- `late`: the request is handled, then the answer waits `delay_ms` (a client timeout fires);
- `body`: the request is handled and the JSON answer's fields are replaced by `body`
  (e.g. `{"op_id": 1e30}` or `{"num_good": "x"}`): a malformed answer.

Not part of the Wesog API: armed through `POST /_sandbox/faults` or `SandboxState.faults`.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request

from .validation import error

KINDS = ("reset_before", "reset_after", "late", "body")
MAX_DELAY_MS = 600_000


@dataclass
class Fault:
    """One armed fault for a route; `times` requests spend it."""

    kind: str
    times: int = 1
    delay_ms: int = 0
    body: dict[str, Any] = field(default_factory=dict)


class Faults:
    """Thread-safe queues of armed faults, one per route key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, deque[Fault]] = defaultdict(deque)

    def arm(self, route: str, fault: Fault) -> None:
        """Queue `fault` for the next request(s) to `route`."""
        with self._lock:
            self._armed[route].append(fault)

    def take(self, route: str) -> Fault | None:
        """Spend one use of the oldest fault armed for `route`, if any."""
        with self._lock:
            queue = self._armed.get(route)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()

    def pending(self) -> dict[str, int]:
        """How many uses are still armed, per route."""
        with self._lock:
            return {route: sum(f.times for f in q) for route, q in self._armed.items() if q}


def cut_connection() -> None:
    """Reset the client's connection now: nothing more is sent on it (RST on close)."""
    sock: socket.socket | None = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def apply_after(fault: Fault, response: Response) -> Response:
    """Apply a fault that acts once the request was handled."""
    if fault.kind == "reset_after":
        cut_connection()
    elif fault.kind == "late":
        time.sleep(fault.delay_ms / 1000)
    elif fault.kind == "body":
        data = response.get_json(silent=True)
        if isinstance(data, dict):
            data.update(fault.body)
            response.set_data(json.dumps(data))
    return response


def parse_fault(body: Any) -> tuple[str, Fault | None, list[dict[str, Any]]]:
    """Read `{"route", "kind", "times"?, "delay_ms"?, "body"?}`; returns (route, fault, errors)."""
    if not isinstance(body, dict):
        return "", None, [error(["body"], "Input should be a valid dictionary", "dict_type", body)]
    errors = []
    route, kind = body.get("route"), body.get("kind")
    times, delay, patch = body.get("times", 1), body.get("delay_ms", 0), body.get("body", {})
    if not isinstance(route, str) or not route:
        errors.append(error(["body", "route"], "Input should be a route key", "value_error", route))
    if kind not in KINDS:
        errors.append(error(["body", "kind"], f"Input should be one of {KINDS}", "enum", kind))
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000:
        errors.append(error(["body", "times"], "Input should be 1..1000", "value_error", times))
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY_MS:
        errors.append(
            error(["body", "delay_ms"], "Input should be 0..600000", "value_error", delay)
        )
    if not isinstance(patch, dict):
        errors.append(error(["body", "body"], "Input should be an object", "dict_type", patch))
    if errors:
        return "", None, errors
    return str(route), Fault(str(kind), times, delay, dict(patch)), []
