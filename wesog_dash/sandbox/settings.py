"""Runtime knobs of the Wesog sandbox and validation of changes made to them over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .dialect import DIALECTS
from .faults import check_malformed_rules
from .validation import error


@dataclass
class SandboxSettings:
    """Knobs of the sandbox; the object is shared live, so changes apply immediately."""

    api_key: str = "sandbox-key"
    images: int = 500  # number of seeded demo images (read once, at creation)
    seed: int = 42  # deterministic seeding and randomness (read once, at creation)
    item_ms: float = 150  # processing time per element of an operation (fractions allowed)
    start_ms: int = 300  # delay before an operation starts, once it reaches the queue head
    fail_rate: float = 0.0  # probability that one element fails ("simulated failure")
    latency_ms: int = 0  # extra latency after the work is done / enqueued
    rate_429: float = 0.0  # probability that an API request answers 429
    retry_after: int = 1  # seconds in the Retry-After header of those 429s
    rate_5xx: float = 0.0  # probability that an API request answers 503
    auth_status: int = 401  # 401 or 403 for a missing / wrong API key
    cancel_supported: bool = True  # false: DELETE /ops/{op_id} answers 405, as if not there
    hold: bool = False  # true: the worker starts no operation, queued ones stay queued
    ops_404: list[int] | str = field(default_factory=list)  # op ids (or "all") answering 404
    # One-shot counters of write calls (POST/PUT/PATCH/DELETE on /imgs...), each used up
    # by one write: drop the connection before / after creating the operation, answer late.
    reset_before_create: int = 0
    reset_after_create: int = 0
    late_answer: int = 0
    late_answer_ms: int = 3000  # how late those answers come
    malformed: list[dict[str, Any]] = field(default_factory=list)  # rules, see faults.py
    dialect: str = "sandbox"  # "reference": only what wesog-api.md documents (dialect.py)
    max_calls_per_second: float = 0.0  # API calls admitted per moving second (0: no limit)


_RATES = {"fail_rate", "rate_429", "rate_5xx"}
_BOOLS = {"cancel_supported", "hold"}


def public_settings(settings: SandboxSettings) -> dict[str, Any]:
    """Return the settings as a dict without the API key."""
    data = asdict(settings)
    data.pop("api_key")
    return data


def _number(value: Any, kind: type) -> str | None:
    # bool is a subclass of int in Python; JSON true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"Input should be a valid {'number' if kind is float else 'integer'}"
    if kind is int and not isinstance(value, int):
        return "Input should be a valid integer"
    return None


def _check_ops_404(value: Any) -> str | None:
    if value == "all":
        return None
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return None
    return 'Input should be "all" or a list of integers'


def _checker(name: str) -> Callable[[Any], str | None]:
    """The check of one knob: returns an error message or None."""
    if name in _BOOLS:
        return lambda v: None if isinstance(v, bool) else "Input should be a valid boolean"
    if name == "ops_404":
        return _check_ops_404
    if name == "malformed":
        return check_malformed_rules
    if name == "dialect":
        return lambda v: None if v in DIALECTS else f"Input should be one of {list(DIALECTS)}"
    if name in _RATES:
        return lambda v: (
            _number(v, float) or (None if 0.0 <= v <= 1.0 else "Input should be between 0 and 1")
        )
    if name == "auth_status":
        return lambda v: (
            _number(v, int) or (None if v in (401, 403) else "Input should be 401 or 403")
        )
    if name == "seed":
        return lambda v: _number(v, int)
    if name in ("item_ms", "max_calls_per_second"):
        return lambda v: (
            _number(v, float) or (None if v >= 0 else "Input should be greater than or equal to 0")
        )
    return lambda v: (
        _number(v, int) or (None if v >= 0 else "Input should be greater than or equal to 0")
    )


_CHECKS = {f.name: _checker(f.name) for f in SandboxSettings.__dataclass_fields__.values()}


def validate_settings_patch(body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check a PATCH body for the settings; return (changes, FastAPI-style errors)."""
    if not isinstance(body, dict):
        return {}, [error(["body"], "Input should be a valid dictionary", "dict_type", body)]
    changes: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in body.items():
        if name == "api_key" or name not in _CHECKS:
            msg = "Extra inputs are not permitted"
            errors.append(error(["body", name], msg, "extra_forbidden", value))
            continue
        message = _CHECKS[name](value)
        if message:
            errors.append(error(["body", name], message, "value_error", value))
        else:
            changes[name] = float(value) if name in _RATES else value
    return changes, errors
