"""Configuration: defaults, then the environment, then explicit overrides, checked into one
typed `Settings` object per app (`settings()`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from flask import Config, Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(value: str | None) -> bool:
    """Read an environment flag such as WESOG_READ_ONLY=1."""
    return (value or "").strip().lower() in TRUE_WORDS


# The ranges of numeric settings.
AboveZero = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]  # a whole number, at least 1
Count = Annotated[int, Field(ge=0)]  # a whole number, 0 or more


def sandbox_dialect(value: str) -> str:
    """WESOG_SANDBOX_DIALECT: "sandbox" or "reference" (ValueError otherwise)."""
    if value.strip().lower() not in ("sandbox", "reference"):
        raise ValueError(value)
    return value.strip().lower()


class Settings(BaseModel):
    """Every setting of the console, typed and checked: built once per app from its merged
    config (defaults, the environment, overrides). A field's config key is WESOG_ and its name
    in capitals, unless it names another."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",  # Flask's own keys live in the same config
        alias_generator=lambda name: f"WESOG_{name.upper()}",
        validate_default=True,
    )

    api_url: str | None = None  # None: start the embedded sandbox
    api_key: str | None = None
    poll_interval: AboveZero = 1.0
    queued_poll_interval: AboveZero = 3.0
    poll_max_backoff: AboveZero = 60.0
    stale_after: AboveZero = 120.0
    lost_after: AboveZero = 300.0  # seconds of 404s before an operation is "lost upstream"
    poll_concurrency: Positive = 4
    poller: Literal["thread", "external", "off"] = "thread"
    lease_ttl: AboveZero = 10.0  # seconds a silent poller keeps the lease; a stand-by then takes it
    # PostgreSQL ends a poller transaction left idle this long (None: a third of the lease TTL),
    # and a takeover waits at most this long for the lease row's lock (None: likewise).
    poller_idle_tx_timeout: float | None = None
    poller_lock_timeout: float | None = None
    # Seconds without a finished poller cycle before pages warn (None: 3 poll intervals).
    poller_stale_after: float | None = None
    read_only: bool = False
    # Argon2 parameters: "standard" (RFC 9106's low-memory profile, argon2-cffi's default);
    # "cheapest" exists for test suites only, where ~400 hashes would otherwise cost minutes.
    password_hash: str = "standard"
    # Idle polls answered from memory (views/idle.py): how long a process trusts a session it
    # found open, and how long a list's change marker it read stays current.
    signed_in_recheck_seconds: float = 5.0
    marker_cache_seconds: float = 0.5
    connect_timeout: AboveZero = 3.05
    read_timeout: AboveZero = 10.0
    sync_send_timeout: AboveZero = 3.0  # a single delete sent inside the web request
    wait_send_timeout: AboveZero = 600.0  # read timeout of a wait=true delete (dispatcher)
    reconcile_grace: NonNegative = 30.0  # seconds an `unknown` deletion waits to be reconciled
    # The safety net of deletions (undo, failure stop, chunk pacing, snapshots).
    undo_seconds: Annotated[float, Field(ge=0, le=3600)] = 5.0  # a browser's deletion waits
    stop_failure_ratio: Annotated[float, Field(ge=0, le=1)] = 0.5  # stop sending past this…
    stop_min_items: Positive = 1000  # …once at least this many images have finished
    approval_threshold: Count = 0  # a deletion of more images waits for a second person (0: off)
    approval_hours: AboveZero = 72.0  # …and expires when nobody approves it within this time
    snapshot_days: Count = 90  # how long the metadata of deleted images is kept
    # The metadata read before each chunk is sent takes at most this many calls and seconds;
    # an image not read within them is sent anyway ("cannot be restored").
    snapshot_calls: Positive = 6
    snapshot_seconds: NonNegative = 2.0
    # Minutes of per-minute rollups kept: at least the 60 the overview reads, twice that by
    # default for clock skew between hosts.
    metric_minutes_keep: Count = 120
    sandbox_images: Count = 500
    sandbox_item_ms: NonNegative = 400
    sandbox_start_ms: Count = 800
    sandbox_fail_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    sandbox_dialect: Literal["sandbox", "reference"] = "sandbox"  # reference: only what the
    # API reference documents
    sandbox_max_calls_per_second: NonNegative = 0.0  # the sandbox answers 429 above it (0: never)
    thumbnail_hosts: str = ""
    # Outgoing alerts: a webhook, off until WESOG_ALERT_URL is set.
    alert_url: str | None = None  # None: no alerts are queued or sent
    alert_secret: str | None = None  # signs each alert's body (HMAC-SHA256)
    alert_failure_rate: Annotated[float, Field(ge=0, le=1)] = 0.2  # failed / processed, 1 h…
    alert_min_items: Count = 10  # …once at least this many items were processed
    alert_retry_base: AboveZero = 5.0  # seconds before the first retry, doubling after
    base_url: str | None = None  # e.g. https://dash.example.com: setup links, trusted host
    trusted_hosts: str | None = None  # comma list; "*" trusts any; default: BASE_URL's or local
    trusted_proxies: Count = 0  # proxies in front that set X-Forwarded-*: ProxyFix
    metrics: bool = False  # /metrics (Prometheus) on
    malloc_arenas: Count = 2  # glibc malloc arenas per process (0: glibc's default)
    metrics_token: str | None = None  # bearer token for /metrics from other hosts
    audit_key_file: str | None = None  # Ed25519 signing key; default instance/audit-signing.key
    audit_digest_dir: str | None = None  # where signed chain-head digests go (unset: none)
    audit_digest_seconds: NonNegative = 3600.0  # how often the poller signs the head (0: never)
    # The audit page's chain check: walked inside the request up to this many events, else in
    # the background, and its verdict trusted this many seconds.
    audit_verify_sync_limit: Count = Field(20_000, alias="AUDIT_VERIFY_SYNC_LIMIT")
    audit_verify_max_age: NonNegative = Field(600.0, alias="AUDIT_VERIFY_MAX_AGE")
    session_idle_minutes: Positive = Field(60, alias="SESSION_IDLE_MINUTES")
    login_throttle: bool = True  # the login throttle (accounts/throttle.py); off in test suites
    login_rate_limit: str = Field("10 per minute", alias="LOGIN_RATE_LIMIT")
    # Failed guesses per username and hour before each attempt for it waits (throttle.py).
    login_name_budget: Positive = Field(100, alias="LOGIN_NAME_BUDGET")
    login_slowdown_base: NonNegative = Field(1.0, alias="LOGIN_SLOWDOWN_BASE")
    login_slowdown_max: NonNegative = Field(30.0, alias="LOGIN_SLOWDOWN_MAX")
    # Scale. The pace of every upstream call of a process: it starts here, rises while the API
    # answers quickly, is cut on 429, 5xx, time-outs or slower answers (upstream/pace.py)…
    start_calls_per_second: AboveZero = 10.0
    max_calls_per_second: AboveZero = 200.0  # …and never goes above this
    discover: bool = True  # record the tenant's other operations by themselves
    discover_interval: AboveZero = 2.0  # seconds between looks for new operations
    # A just-created operation may be ours, its answer still on the way to the dispatcher: wait
    # this long before calling it someone else's, so that ours come first.
    discover_grace: NonNegative = 2.0
    list_page_size: Positive = 1000  # operations per GET /ops page when refreshing
    list_max_pages: Positive = 10  # most GET /ops pages read in one cycle
    max_inflight_ops: Positive = 4  # unfinished operations of one deletion at once
    chunk_size: Positive = 1000  # ids per DELETE /imgs call
    query_delete_max: Positive = 100_000  # ids a "delete every match of this search" may hold

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Settings:
        """The settings in `config`; ConfigError naming the first one that is not valid."""
        try:
            return cls.model_validate(dict(config))
        except ValidationError as error:
            first = error.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "a setting"
            value = str(config.get(name))[:40]
            raise ConfigError(f"{name}={value!r}: {first['msg']}.") from None

    def as_config(self) -> dict[str, Any]:
        """The settings under their config keys."""
        return self.model_dump(by_alias=True)


# Flask's and its extensions' own settings, as this console sets them.
FLASK_DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # a request body past this is a 413
    "MAX_FORM_MEMORY_SIZE": 8 * 1024 * 1024,  # pasted id lists (100,000 ids) fit
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # CSRF tokens live as long as the session (which expires when idle), not one hour:
    # a page left open while its user works in another tab must still submit.
    "WTF_CSRF_TIME_LIMIT": None,
}
DEFAULTS: dict[str, Any] = {**Settings.model_validate({}).as_config(), **FLASK_DEFAULTS}


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings used when neither the environment nor overrides say otherwise."""
    db_file = Path(instance_path) / "wesog_dash.db"
    return {**DEFAULTS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"}


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


def trusted_hosts(config: Settings) -> list[str] | None:
    """The Host names this console answers (Flask's TRUSTED_HOSTS; None: any).

    WESOG_TRUSTED_HOSTS wins ("*" trusts any); else the host of WESOG_BASE_URL; else only the
    local names, so that a forged Host header can never reach a link we print or send.
    """
    listed = (config.trusted_hosts or "").strip()
    if listed == "*":
        return None
    if listed:
        return [name.strip() for name in listed.split(",") if name.strip()]
    base = (config.base_url or "").strip()
    if base:
        host = urlsplit(base).hostname
        if host:
            return [host]
    return list(LOCAL_HOSTS)


class WatchedConfig(Config):
    """Flask's config, holding the typed settings built from it until a key is written
    (create_app's extensions set theirs; tests change a setting at runtime)."""

    typed: Settings | None = None

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.typed = None

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.typed = None

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.typed = None

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.typed = None
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.typed = None
        return super().pop(key, *default)


def settings(app: Flask | None = None) -> Settings:
    """The typed settings of `app` (default: the current app), built on first use."""
    config = (current_app if app is None else app).config
    if not isinstance(config, WatchedConfig):
        return Settings.of(config)  # an app not made by create_app
    if config.typed is None:
        config.typed = Settings.of(config)
    return config.typed
