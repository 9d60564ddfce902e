"""Idle polls: "nothing changed" (204) answered from this process's memory, not the database.

Every open list polls every second, and almost every answer is "nothing changed". Under load a
database round trip costs a request far more than its query (each statement lets the other
threads run first), so an idle poll is answered from short-lived memories of this process: the
sessions it found open in the last WESOG_SIGNED_IN_RECHECK_SECONDS (accounts/sessions.py),
and, for versioned lists, each list's change marker as read in the last
WESOG_MARKER_CACHE_SECONDS (the image grid's watcher still reads its cards). Only a 204 is ever
answered that way; a change, or a session this process has not checked lately, takes the full
path (session checked in the database, fresh reads, render).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, session

from ..accounts import sessions
from ..config import bounded_seconds, settings
from ..inputs import whole_number
from .common import list_token, nothing_changed, poll_seconds, unchanged

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Marker = Callable[[], str]
RECENT = "wesog_remembered"  # app.extensions: read function -> (value, when read)


def list_version(scope: str, *markers: Marker, read: Callable[[Marker], str] | None = None) -> str:
    """The version of a list: its scope, query arguments and markers (read now, or by `read`)."""
    return list_token(scope, "".join(read(m) if read else m() for m in markers))


def remembered(read: Callable[[], T]) -> T:
    """`read()` as this process read it less than WESOG_MARKER_CACHE_SECONDS ago (and less
    than half a poll interval): a list's change marker, or the poller's pause."""
    # Never more than half a poll interval: a change reaches the page within 1.5 intervals.
    ceiling = poll_seconds() / 2
    max_age = bounded_seconds(settings().marker_cache_seconds, ceiling)
    memory = current_app.extensions.setdefault(RECENT, {})
    value, read_at = memory.get(read, (None, float("-inf")))
    if not time.monotonic() - read_at < max_age:
        value = read()
        memory[read] = (value, time.monotonic())
    return value


def answers_idle(unchanged_now: Callable[[], bool]) -> Callable[[F], F]:
    """Put above `polled` and `role_required`: a poll from a session this process checked
    lately (with the view's role) that `unchanged_now()` finds unchanged gets 204 without a
    database connection; any other takes the view."""

    def decorator(view: F) -> F:
        role = view.required_role  # type: ignore[attr-defined]  # set by role_required

        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if signed_in_lately(role) and unchanged_now():
                g.passive_request = True
                return nothing_changed()
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def list_unchanged(scope: str, *markers: Marker) -> Callable[[], bool]:
    """For `answers_idle`: the list's version, from recent markers, is the one the poll sent."""
    return lambda: unchanged(list_version(scope, *markers, read=remembered))


def signed_in_lately(role: str) -> bool:
    """True when the cookie's session was found open, with `role`, by this process lately."""
    user_id = whole_number(str(session.get("_user_id", "")))  # Flask-Login's key
    if user_id is None:
        return False
    return sessions.verified_recently(session.get(sessions.SESSION_KEY), user_id, role)
