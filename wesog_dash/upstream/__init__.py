"""Where the Wesog API lives for this app (the configured one, or the embedded sandbox), and
how its failures are told (`problems`).

The sandbox starts lazily, on the first call that needs the API, so that commands such as
`flask db upgrade` never start it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_app_context

from ..config import Settings
from ..sandbox import SandboxServer, SandboxSettings
from ..wesog import WesogClient
from ..wesog.client import Observer
from .budget import Budget
from .problems import Problem, UpstreamProblem, describe, problem_of, upstream_call


class Upstream:
    """Lazily built WesogClient (and sandbox, when no API URL is configured)."""

    def __init__(self, config: Settings, observer: Observer | None = None) -> None:
        self.config = config
        self.observer = observer  # told of every call (the app factory passes telemetry's)
        self.is_sandbox = not config.api_url
        self.sandbox: Any = None
        self.budget = Budget(config.max_calls_per_second, start=config.start_calls_per_second)
        self._client: WesogClient | None = None
        self._lock = threading.Lock()

    def client(self) -> WesogClient:
        """The shared client; starts the sandbox on first use when there is no API URL."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def _build_client(self) -> WesogClient:
        url, key = self.config.api_url, self.config.api_key
        if self.is_sandbox:
            self.sandbox = start_sandbox(self.config)
            url, key = self.sandbox.url, self.sandbox.settings.api_key
        if not (url and key):
            raise RuntimeError("WESOG_API_KEY must be set when WESOG_API_URL is set")
        return WesogClient(
            url,
            key,
            timeout=(self.config.connect_timeout, self.config.read_timeout),
            gate=self.budget,
            observer=self.observer,
        )

    def base_url(self) -> str:
        """The API base URL (starting the sandbox if that is what we talk to)."""
        return self.client().base_url

    def thumbnail_origins(self) -> list[str]:
        """Origins allowed to serve thumbnails: configured hosts plus the API's own."""
        extra = [h.strip() for h in self.config.thumbnail_hosts.split()]
        parts = urlsplit(self.base_url())
        return [f"{parts.scheme}://{parts.netloc}", *[h for h in extra if h]]

    def close(self) -> None:
        """Stop the sandbox and release connections."""
        if self._client is not None:
            self._client.close()
        if self.sandbox is not None:
            self.sandbox.stop()


def start_sandbox(config: Settings) -> SandboxServer:
    """Start the embedded sandbox on a free loopback port with a fresh random key."""
    settings = SandboxSettings(
        api_key=config.api_key or secrets.token_urlsafe(24),
        images=config.sandbox_images,
        item_ms=config.sandbox_item_ms,
        start_ms=config.sandbox_start_ms,
        fail_rate=config.sandbox_fail_rate,
        dialect=config.sandbox_dialect,
        max_calls_per_second=config.sandbox_max_calls_per_second,
    )
    return SandboxServer(settings, host="127.0.0.1", port=0).start()


def upstream(app: Flask | None = None) -> Upstream:
    """The Upstream of the current (or given) app."""
    return (app or current_app).extensions["wesog_upstream"]


GUARD = "wesog_upstream_guard"  # a callable in `g` run before every call (the poller's fence)


class GuardedClient:
    """The shared client, with a check before each call (it raises to stop the call)."""

    def __init__(self, client: WesogClient, guard: Callable[[], None]) -> None:
        self._client, self._guard = client, guard

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._guard()
            return attribute(*args, **kwargs)

        return guarded


def wesog_client() -> WesogClient:
    """The WesogClient of the current app (guarded when the context sets a GUARD)."""
    client = upstream().client()
    guard = g.get(GUARD) if has_app_context() else None
    return client if guard is None else GuardedClient(client, guard)  # type: ignore[return-value]


__all__ = [
    "GUARD",
    "Budget",
    "GuardedClient",
    "Problem",
    "Upstream",
    "UpstreamProblem",
    "describe",
    "problem_of",
    "upstream",
    "upstream_call",
    "wesog_client",
]
