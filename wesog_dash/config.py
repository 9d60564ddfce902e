"""Configuration: defaults, then the environment, then explicit overrides."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(value: str | None) -> bool:
    """Read an environment flag such as WESOG_READ_ONLY=1."""
    return (value or "").strip().lower() in TRUE_WORDS


def sandbox_dialect(value: str) -> str:
    """WESOG_SANDBOX_DIALECT: "sandbox" or "reference" (ValueError otherwise)."""
    if value.strip().lower() not in ("sandbox", "reference"):
        raise ValueError(value)
    return value.strip().lower()


# Outgoing alerts (issue 12): a webhook, off until WESOG_ALERT_URL is set.
ALERT_DEFAULTS: dict[str, Any] = {
    "WESOG_ALERT_URL": None,  # None: no alerts are queued or sent
    "WESOG_ALERT_SECRET": None,  # signs each alert's body (HMAC-SHA256)
    "WESOG_ALERT_FAILURE_RATE": 0.2,  # failed / processed items over the last hour
    "WESOG_ALERT_MIN_ITEMS": 10,  # …once at least this many items were processed
    "WESOG_ALERT_RETRY_BASE": 5.0,  # seconds before the first retry, doubling after
}


DEFAULTS: dict[str, Any] = {
    "WESOG_API_URL": None,  # None: start the embedded sandbox
    "WESOG_API_KEY": None,
    "WESOG_POLL_INTERVAL": 1.0,
    "WESOG_QUEUED_POLL_INTERVAL": 3.0,
    "WESOG_POLL_MAX_BACKOFF": 60.0,
    "WESOG_STALE_AFTER": 120.0,
    "WESOG_LOST_AFTER": 300.0,  # seconds of 404s before an operation is "lost upstream"
    "WESOG_POLL_CONCURRENCY": 4,
    "WESOG_POLLER": "thread",  # thread | external | off
    "WESOG_LEASE_TTL": 10.0,  # seconds a silent poller keeps the lease; a stand-by then takes it
    # PostgreSQL ends a poller transaction left idle this long (None: a third of the lease TTL),
    # and a takeover waits at most this long for the lease row's lock (None: likewise).
    "WESOG_POLLER_IDLE_TX_TIMEOUT": None,
    "WESOG_POLLER_LOCK_TIMEOUT": None,
    # Seconds without a finished poller cycle before pages warn (None: 3 poll intervals).
    "WESOG_POLLER_STALE_AFTER": None,
    "WESOG_READ_ONLY": False,
    # Argon2 parameters: "standard" (RFC 9106's low-memory profile, argon2-cffi's default);
    # "cheapest" exists for test suites only, where ~400 hashes would otherwise cost minutes.
    "WESOG_PASSWORD_HASH": "standard",
    # Idle polls answered from memory (views/idle.py): how long a process trusts a session it
    # found open, and how long a list's change marker it read stays current.
    "WESOG_SIGNED_IN_RECHECK_SECONDS": 5.0,
    "WESOG_MARKER_CACHE_SECONDS": 0.5,
    "WESOG_CONNECT_TIMEOUT": 3.05,
    "WESOG_READ_TIMEOUT": 10.0,
    "WESOG_SYNC_SEND_TIMEOUT": 3.0,  # a single delete sent inside the web request
    "WESOG_WAIT_SEND_TIMEOUT": 600.0,  # read timeout of a wait=true delete (dispatcher)
    "WESOG_RECONCILE_GRACE": 30.0,  # seconds an `unknown` deletion waits before reconciling
    # The safety net of deletions (undo, failure stop, chunk pacing, snapshots).
    "WESOG_UNDO_SECONDS": 5.0,  # a deletion made in the browser waits this long (Undo)
    "WESOG_STOP_FAILURE_RATIO": 0.5,  # stop sending chunks past this share of failures…
    "WESOG_STOP_MIN_ITEMS": 1000,  # …once at least this many images have finished
    "WESOG_APPROVAL_THRESHOLD": 0,  # a deletion of more images waits for a second person (0: off)
    "WESOG_APPROVAL_HOURS": 72.0,  # …and expires when nobody approves it within this time
    "WESOG_SNAPSHOT_DAYS": 90,  # how long the metadata of deleted images is kept
    # The metadata read before each chunk is sent takes at most this many calls and seconds;
    # an image not read within them is sent anyway ("cannot be restored").
    "WESOG_SNAPSHOT_CALLS": 6,
    "WESOG_SNAPSHOT_SECONDS": 2.0,
    "WESOG_METRIC_MINUTES_KEEP": 120,  # minutes of per-minute rollups kept (at least 60)
    "WESOG_SANDBOX_IMAGES": 500,
    "WESOG_SANDBOX_ITEM_MS": 400,
    "WESOG_SANDBOX_START_MS": 800,
    "WESOG_SANDBOX_FAIL_RATE": 0.0,
    "WESOG_SANDBOX_DIALECT": "sandbox",  # "reference": only what the API reference documents
    "WESOG_SANDBOX_MAX_CALLS_PER_SECOND": 0.0,  # the sandbox answers 429 above it (0: never)
    "WESOG_THUMBNAIL_HOSTS": "",
    **ALERT_DEFAULTS,
    "WESOG_BASE_URL": None,  # e.g. https://dash.example.com: setup links, trusted host
    "WESOG_TRUSTED_HOSTS": None,  # comma list; "*" trusts any; default: BASE_URL's or local
    "WESOG_TRUSTED_PROXIES": 0,  # proxies in front that set X-Forwarded-*: ProxyFix
    "WESOG_METRICS": False,  # /metrics (Prometheus) on
    "WESOG_MALLOC_ARENAS": 2,  # glibc malloc arenas per process (0: glibc's default)
    "WESOG_METRICS_TOKEN": None,  # bearer token for /metrics from other hosts
    "WESOG_AUDIT_KEY_FILE": None,  # Ed25519 signing key; default instance/audit-signing.key
    "WESOG_AUDIT_DIGEST_DIR": None,  # where signed chain-head digests go (unset: none)
    "WESOG_AUDIT_DIGEST_SECONDS": 3600.0,  # how often the poller signs the head
    "SESSION_IDLE_MINUTES": 60,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # a request body past this is a 413
    "MAX_FORM_MEMORY_SIZE": 8 * 1024 * 1024,  # pasted id lists (100,000 ids) fit
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "RATELIMIT_ENABLED": True,  # the login throttle (accounts/throttle.py)
    "LOGIN_RATE_LIMIT": "10 per minute",
    # Failed guesses per username and hour before each attempt for it waits (throttle.py).
    "LOGIN_NAME_BUDGET": 100,
    "LOGIN_SLOWDOWN_BASE": 1.0,
    "LOGIN_SLOWDOWN_MAX": 30.0,
    # CSRF tokens live as long as the session (which expires when idle), not one hour:
    # a page left open while its user works in another tab must still submit.
    "WTF_CSRF_TIME_LIMIT": None,
}


# Scale: the request budget, refresh from the list, discovery, bulk sending.
SCALE_DEFAULTS: dict[str, Any] = {
    # The pace of every upstream call of a process: it starts here, rises while the API answers
    # quickly, is cut on 429, 5xx, time-outs or slower answers (upstream/pace.py)…
    "WESOG_START_CALLS_PER_SECOND": 10.0,
    "WESOG_MAX_CALLS_PER_SECOND": 200.0,  # …and never goes above this
    "WESOG_DISCOVER": True,  # record the tenant's other operations by themselves
    "WESOG_DISCOVER_INTERVAL": 2.0,  # seconds between looks for new operations
    "WESOG_LIST_PAGE_SIZE": 1000,  # operations per GET /ops page when refreshing
    "WESOG_LIST_MAX_PAGES": 10,  # most GET /ops pages read in one cycle
    "WESOG_MAX_INFLIGHT_OPS": 4,  # unfinished operations of one deletion at once
    "WESOG_CHUNK_SIZE": 1000,  # ids per DELETE /imgs call
    "WESOG_QUERY_DELETE_MAX": 100_000,  # ids a "delete every match of this search" may hold
}


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings used when neither the environment nor overrides say otherwise."""
    db_file = Path(instance_path) / "wesog_dash.db"
    return {**DEFAULTS, **SCALE_DEFAULTS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"}


# Environment variable -> (config key, parser). Only these are read from the environment.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "WESOG_API_URL": ("WESOG_API_URL", str),
    "WESOG_API_KEY": ("WESOG_API_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "WESOG_POLL_INTERVAL": ("WESOG_POLL_INTERVAL", float),
    "WESOG_POLLER": ("WESOG_POLLER", str),
    "WESOG_LEASE_TTL": ("WESOG_LEASE_TTL", float),
    "WESOG_POLLER_IDLE_TX_TIMEOUT": ("WESOG_POLLER_IDLE_TX_TIMEOUT", float),
    "WESOG_POLLER_LOCK_TIMEOUT": ("WESOG_POLLER_LOCK_TIMEOUT", float),
    "WESOG_POLLER_STALE_AFTER": ("WESOG_POLLER_STALE_AFTER", float),
    "WESOG_READ_ONLY": ("WESOG_READ_ONLY", env_flag),
    "WESOG_PASSWORD_HASH": ("WESOG_PASSWORD_HASH", str),
    "WESOG_SIGNED_IN_RECHECK_SECONDS": ("WESOG_SIGNED_IN_RECHECK_SECONDS", float),
    "WESOG_MARKER_CACHE_SECONDS": ("WESOG_MARKER_CACHE_SECONDS", float),
    "WESOG_CONNECT_TIMEOUT": ("WESOG_CONNECT_TIMEOUT", float),
    "WESOG_READ_TIMEOUT": ("WESOG_READ_TIMEOUT", float),
    "WESOG_STALE_AFTER": ("WESOG_STALE_AFTER", float),
    "WESOG_LOST_AFTER": ("WESOG_LOST_AFTER", float),
    "WESOG_QUERY_DELETE_MAX": ("WESOG_QUERY_DELETE_MAX", int),
    "WESOG_MAX_CALLS_PER_SECOND": ("WESOG_MAX_CALLS_PER_SECOND", float),
    "WESOG_START_CALLS_PER_SECOND": ("WESOG_START_CALLS_PER_SECOND", float),
    "WESOG_DISCOVER": ("WESOG_DISCOVER", env_flag),
    "WESOG_DISCOVER_INTERVAL": ("WESOG_DISCOVER_INTERVAL", float),
    "WESOG_LIST_PAGE_SIZE": ("WESOG_LIST_PAGE_SIZE", int),
    "WESOG_LIST_MAX_PAGES": ("WESOG_LIST_MAX_PAGES", int),
    "WESOG_MAX_INFLIGHT_OPS": ("WESOG_MAX_INFLIGHT_OPS", int),
    "WESOG_CHUNK_SIZE": ("WESOG_CHUNK_SIZE", int),
    "WESOG_WAIT_SEND_TIMEOUT": ("WESOG_WAIT_SEND_TIMEOUT", float),
    "WESOG_RECONCILE_GRACE": ("WESOG_RECONCILE_GRACE", float),
    "WESOG_UNDO_SECONDS": ("WESOG_UNDO_SECONDS", float),
    "WESOG_STOP_FAILURE_RATIO": ("WESOG_STOP_FAILURE_RATIO", float),
    "WESOG_STOP_MIN_ITEMS": ("WESOG_STOP_MIN_ITEMS", int),
    "WESOG_APPROVAL_THRESHOLD": ("WESOG_APPROVAL_THRESHOLD", int),
    "WESOG_APPROVAL_HOURS": ("WESOG_APPROVAL_HOURS", float),
    "WESOG_SNAPSHOT_DAYS": ("WESOG_SNAPSHOT_DAYS", int),
    "WESOG_SNAPSHOT_CALLS": ("WESOG_SNAPSHOT_CALLS", int),
    "WESOG_SNAPSHOT_SECONDS": ("WESOG_SNAPSHOT_SECONDS", float),
    "WESOG_METRIC_MINUTES_KEEP": ("WESOG_METRIC_MINUTES_KEEP", int),
    "WESOG_SANDBOX_IMAGES": ("WESOG_SANDBOX_IMAGES", int),
    "WESOG_SANDBOX_ITEM_MS": ("WESOG_SANDBOX_ITEM_MS", float),
    "WESOG_SANDBOX_START_MS": ("WESOG_SANDBOX_START_MS", int),
    "WESOG_SANDBOX_FAIL_RATE": ("WESOG_SANDBOX_FAIL_RATE", float),
    "WESOG_SANDBOX_DIALECT": ("WESOG_SANDBOX_DIALECT", sandbox_dialect),
    "WESOG_SANDBOX_MAX_CALLS_PER_SECOND": ("WESOG_SANDBOX_MAX_CALLS_PER_SECOND", float),
    "WESOG_THUMBNAIL_HOSTS": ("WESOG_THUMBNAIL_HOSTS", str),
    "WESOG_ALERT_URL": ("WESOG_ALERT_URL", str),
    "WESOG_ALERT_SECRET": ("WESOG_ALERT_SECRET", str),
    "WESOG_ALERT_FAILURE_RATE": ("WESOG_ALERT_FAILURE_RATE", float),
    "WESOG_ALERT_MIN_ITEMS": ("WESOG_ALERT_MIN_ITEMS", int),
    "SESSION_IDLE_MINUTES": ("SESSION_IDLE_MINUTES", int),
    "WESOG_BASE_URL": ("WESOG_BASE_URL", str),
    "WESOG_TRUSTED_HOSTS": ("WESOG_TRUSTED_HOSTS", str),
    "WESOG_TRUSTED_PROXIES": ("WESOG_TRUSTED_PROXIES", int),
    "WESOG_METRICS": ("WESOG_METRICS", env_flag),
    "WESOG_MALLOC_ARENAS": ("WESOG_MALLOC_ARENAS", int),
    "WESOG_METRICS_TOKEN": ("WESOG_METRICS_TOKEN", str),
    "WESOG_AUDIT_KEY_FILE": ("WESOG_AUDIT_KEY_FILE", str),
    "WESOG_AUDIT_DIGEST_DIR": ("WESOG_AUDIT_DIGEST_DIR", str),
    "WESOG_AUDIT_DIGEST_SECONDS": ("WESOG_AUDIT_DIGEST_SECONDS", float),
    "LOGIN_RATE_LIMIT": ("LOGIN_RATE_LIMIT", str),
    "LOGIN_NAME_BUDGET": ("LOGIN_NAME_BUDGET", int),
    "LOGIN_SLOWDOWN_BASE": ("LOGIN_SLOWDOWN_BASE", float),
    "LOGIN_SLOWDOWN_MAX": ("LOGIN_SLOWDOWN_MAX", float),
}


def bounded_seconds(value: object, ceiling: float) -> float:
    """A duration setting as seconds in [0, ceiling]; junk, NaN or negative: 0 (off)."""
    try:
        seconds = float(value or 0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return min(seconds, ceiling) if seconds > 0 else 0.0


EXPECTED = {int: "a whole number", float: "a number", sandbox_dialect: "sandbox or reference"}


class ConfigError(ValueError):
    """An environment variable the console cannot use; the message names it and says why."""


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Settings named in the environment, parsed to their types (ConfigError on junk)."""
    found: dict[str, Any] = {}
    for name, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(name)
        if raw is not None and raw != "":
            try:
                found[key] = parse(raw)
            except ValueError:
                expected = EXPECTED.get(parse, "a valid value")
                raise ConfigError(f"{name}={raw[:40]!r} is not {expected}.") from None
    return found


def secret_key(instance_path: str) -> str:
    """The session key kept in the instance folder, created on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1", "[::1]"]


def trusted_hosts(config: dict[str, Any]) -> list[str] | None:
    """The Host names this console answers (Flask's TRUSTED_HOSTS; None: any).

    WESOG_TRUSTED_HOSTS wins ("*" trusts any); else the host of WESOG_BASE_URL; else only the
    local names, so that a forged Host header can never reach a link we print or send.
    """
    listed = str(config.get("WESOG_TRUSTED_HOSTS") or "").strip()
    if listed == "*":
        return None
    if listed:
        return [name.strip() for name in listed.split(",") if name.strip()]
    base = str(config.get("WESOG_BASE_URL") or "").strip()
    if base:
        host = urlsplit(base).hostname
        if host:
            return [host]
    return list(LOCAL_HOSTS)
