"""The in-process poller thread (WESOG_POLLER=thread): the top of the import graph.

The thread starts on the first request a process serves, never at import: `flask db upgrade`
and other commands must not start polling. Each web process may start one; the lease makes
sure only one of them works at a time.
"""

from __future__ import annotations

import atexit
import logging
import threading

from flask import Flask, current_app

from .config import settings
from .poller import Poller, wakeups
from .signals import wake_event

EXTENSION = "wesog_background"
log = logging.getLogger(__name__)


class Background:
    """Per-app state: the poller thread and its stop flag."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.poller: Poller | None = None
        self.stop_event = threading.Event()
        self.lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Register the per-app state and, in thread mode, the lazy start on the first request."""
    app.extensions[EXTENSION] = Background()
    if settings(app).poller == "thread":
        app.before_request(_start_for_current_app)


def _start_for_current_app() -> None:
    state: Background = current_app.extensions[EXTENSION]
    if state.thread is None:  # cheap check first: this runs before every request
        start(current_app._get_current_object())  # type: ignore[attr-defined]


def start(app: Flask) -> bool:
    """Start this process's poller thread once; True when it was started by this call."""
    state: Background = app.extensions[EXTENSION]
    with state.lock:
        if state.thread is not None and state.thread.is_alive():
            return False
        ttl = settings(app).lease_ttl
        poller = state.poller = Poller(app, wake_event=wake_event(app), lease_ttl=ttl)
        state.stop_event.clear()
        state.thread = threading.Thread(
            target=poller.run_forever,
            args=(state.stop_event,),
            kwargs={"report": lambda line: log.info("wesog poller: %s", line)},
            name="wesog-poller",
            daemon=True,
        )
        state.thread.start()
        wakeups.listen(app, wake_event(app), state.stop_event)
    atexit.register(stop, app)
    return True


def stop(app: Flask, timeout: float = 5.0) -> None:
    """Stop the poller thread (it releases its lease on the way out)."""
    state: Background | None = app.extensions.get(EXTENSION)
    if state is None or state.thread is None:
        return
    state.stop_event.set()
    wake_event(app).set()
    state.thread.join(timeout)
    state.thread = None


def poller_status(app: Flask) -> str:
    """What this process's poller does: holds the lease, stands by, or does not run here."""
    state: Background | None = app.extensions.get(EXTENSION)
    if state is None or state.poller is None or state.thread is None:
        return "not running in this process"
    return "holds the lease" if state.poller.holding else "standing by"
