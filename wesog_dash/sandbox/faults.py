"""Faults for the console's tests: dropped connections.

Dropped connection: the handler shuts the client's TCP socket down (werkzeug's server hands
it over as `werkzeug.socket`), so the client reads no status line at all: requests raises
`requests.exceptions.ConnectionError` (RemoteDisconnected / connection reset). What the
handler returns afterwards is never delivered.
"""

from __future__ import annotations

import contextlib
import socket

from flask import g, request


class NoAnswer(Exception):
    """Raised by a handler whose client connection was dropped on purpose."""


def drop_connection() -> None:
    """Shut the client's TCP connection down so that it gets no answer, then raise NoAnswer."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("dropping a connection needs werkzeug's server (werkzeug.socket)")
    g.sandbox_dropped = True  # nothing more reaches the client: no fault may be spent on it
    with contextlib.suppress(OSError):  # the client already went away: dropped too
        sock.shutdown(socket.SHUT_RDWR)
    raise NoAnswer
