"""The wake-up signal: services ask for background work without knowing who does it.

This module sits at the bottom of the import graph (it imports nothing of ours): the outbox
and tracking set the event, the runner at the top of the stack waits on it.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, has_app_context

EXTENSION = "wesog_wake"


def wake_event(app: Flask) -> threading.Event:
    """The app's wake-up event, created on first use."""
    return app.extensions.setdefault(EXTENSION, threading.Event())


def wake() -> None:
    """Ask this process's poller to run a cycle now (e.g. a deletion was just queued)."""
    if has_app_context():
        wake_event(current_app).set()
