"""Runtime knobs of the Wesog sandbox and validation of changes made to them over HTTP."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .validation import error


@dataclass
class SandboxSettings:
    """Knobs of the sandbox; the object is shared live, so changes apply immediately."""

    api_key: str = "sandbox-key"
    images: int = 500  # number of seeded demo images (read once, at creation)
    seed: int = 42  # deterministic seeding and randomness (read once, at creation)
    item_ms: int = 150  # processing time per element of an operation
    start_ms: int = 300  # delay before an operation starts, once it reaches the queue head
    fail_rate: float = 0.0  # probability that one element fails ("simulated failure")
    latency_ms: int = 0  # extra latency after the work is done / enqueued
    rate_429: float = 0.0  # probability that an API request answers 429
    retry_after: int = 1  # seconds in the Retry-After header of those 429s
    rate_5xx: float = 0.0  # probability that an API request answers 503
    auth_status: int = 401  # 401 or 403 for a missing / wrong API key
    hold: bool = False  # true: queued operations wait (none starts) until it is set back


_RATES = {"fail_rate", "rate_429", "rate_5xx"}
_FLAGS = {"hold"}
_NON_NEGATIVE = {"images", "item_ms", "start_ms", "latency_ms", "retry_after"}


def public_settings(settings: SandboxSettings) -> dict[str, Any]:
    """Return the settings as a dict without the API key."""
    data = asdict(settings)
    data.pop("api_key")
    return data


def _check_field(name: str, kind: type, value: Any) -> str | None:
    """Return an error message when `value` is not acceptable for field `name`."""
    if name in _FLAGS:
        return None if isinstance(value, bool) else "Input should be a valid boolean"
    # bool is a subclass of int in Python; JSON true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"Input should be a valid {'number' if kind is float else 'integer'}"
    if kind is int and not isinstance(value, int):
        return "Input should be a valid integer"
    if name in _RATES and not 0.0 <= value <= 1.0:
        return "Input should be between 0 and 1"
    if name in _NON_NEGATIVE and value < 0:
        return "Input should be greater than or equal to 0"
    if name == "auth_status" and value not in (401, 403):
        return "Input should be 401 or 403"
    return None


def validate_settings_patch(body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check a PATCH body for the settings; return (changes, FastAPI-style errors)."""
    if not isinstance(body, dict):
        return {}, [error(["body"], "Input should be a valid dictionary", "dict_type", body)]
    kinds = {f.name: float if f.type in ("float", float) else int for f in fields(SandboxSettings)}
    changes: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in body.items():
        if name == "api_key" or name not in kinds:
            msg = "Extra inputs are not permitted"
            errors.append(error(["body", name], msg, "extra_forbidden", value))
            continue
        message = _check_field(name, kinds[name], value)
        if message:
            errors.append(error(["body", name], message, "value_error", value))
        else:
            changes[name] = float(value) if kinds[name] is float and name not in _FLAGS else value
    return changes, errors
