"""The wake-up signal: services ask for background work without knowing who does it.

This module sits at the bottom of the import graph (it imports nothing of ours): the outbox
and tracking set the event, the runner at the top of the stack waits on it. Another process
hears of it through a broadcast installed at start (`poller.wakeups`: NOTIFY on PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, current_app, has_app_context

EXTENSION = "wesog_wake"
BROADCAST = "wesog_wake_broadcast"


def wake_event(app: Flask) -> threading.Event:
    """The app's wake-up event, created on first use."""
    return app.extensions.setdefault(EXTENSION, threading.Event())


def set_broadcast(app: Flask, broadcast: Callable[[], None]) -> None:
    """Also tell other processes on every wake-up (called once, at start)."""
    app.extensions[BROADCAST] = broadcast


def wake() -> None:
    """Ask the poller to run a cycle now (e.g. a deletion was just queued), here or elsewhere."""
    if has_app_context():
        wake_event(current_app).set()
        broadcast = current_app.extensions.get(BROADCAST)
        if broadcast is not None:
            broadcast()
