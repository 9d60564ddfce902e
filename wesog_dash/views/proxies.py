"""Forwarding headers that nobody trusts: a proxy in front of a console left at
WESOG_TRUSTED_PROXIES=0 makes every client the proxy's own address (127.0.0.1), so the login
throttle turns global and loopback-only answers reach everyone behind the proxy.

When such headers arrive, the process logs one warning and remembers it for /readyz and the
users page. (A client can send the headers itself: the words say what to check, not that a
proxy is certainly there.)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app, request

from ..config import settings
from ..models import utcnow

log = logging.getLogger(__name__)
EXTENSION = "wesog_untrusted_forwarding"
FORWARDING = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP")


@dataclass
class Sighting:
    """The first request that came with forwarding headers while none is trusted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    at: datetime | None = None
    headers: tuple[str, ...] = ()


def trusted_hops(app: Flask) -> int:
    """WESOG_TRUSTED_PROXIES as a number (0 when unset)."""
    return settings(app).trusted_proxies


def notice_forwarding() -> None:
    """Before each request: remember (and log once) forwarding headers nobody trusts."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if trusted_hops(app):
        return
    sighting: Sighting = app.extensions[EXTENSION]
    if sighting.at is not None:
        return  # one warning per process
    found = tuple(name for name in FORWARDING if name in request.headers)
    if not found:
        return
    with sighting.lock:
        if sighting.at is not None:
            return
        sighting.at, sighting.headers = utcnow(), found
    log.warning(
        "Requests arrive with %s but WESOG_TRUSTED_PROXIES=0: behind a proxy every client "
        "looks like %s (one login throttle for all, /metrics open to anyone behind it). Set "
        "WESOG_TRUSTED_PROXIES to the number of proxies in front.",
        ", ".join(found),
        request.remote_addr,
    )


def untrusted_forwarding(app: Flask) -> str | None:
    """One sentence for /readyz and the users page, when forwarding headers were ignored."""
    sighting: Sighting | None = app.extensions.get(EXTENSION)
    if sighting is None or sighting.at is None or trusted_hops(app):
        return None
    return (
        f"Requests arrive with {', '.join(sighting.headers)} (first at "
        f"{sighting.at:%Y-%m-%d %H:%M} UTC) but WESOG_TRUSTED_PROXIES is 0: if a proxy is in "
        "front, every client looks like the proxy's address. Set WESOG_TRUSTED_PROXIES to the "
        "number of proxies in front."
    )


def init_app(app: Flask) -> None:
    """Watch every request for forwarding headers."""
    app.extensions[EXTENSION] = Sighting()
    app.before_request(notice_forwarding)
