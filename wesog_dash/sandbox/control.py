"""`/_sandbox/*`: counters, knobs and state changes for tests and benchmarks; not the Wesog API.

* `GET /_sandbox/stats`, `POST /_sandbox/stats/reset`: request counters ("GET /ops/{op_id}").
* `GET /_sandbox/settings`, `PATCH /_sandbox/settings`: the knobs (see settings.py, faults.py).
* `POST /_sandbox/restart` `{"next_op_id": 1}` (body optional): a simulated API restart that
  forgets every operation and numbers new ones from `next_op_id`; images are kept.
* `DELETE /_sandbox/ops/{op_id}`: forget one operation (404 when unknown).
* `POST /_sandbox/ops/bulk` `{"count": N, "method": "del", "state": "finished", "items": 1}`:
  create N operations at once (`state` "finished" or "queued"; queued ones run unless `hold`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .api import detail, sandbox_state
from .settings import public_settings, validate_settings_patch
from .validation import ValidationFailed, error, load_json

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")
MAX_BULK = 1_000_000


@bp.get("/stats", endpoint="stats")
def stats() -> Any:
    """The request counters, keyed like "GET /ops/{op_id}"."""
    return jsonify(dict(sandbox_state().stats))


@bp.post("/stats/reset", endpoint="stats_reset")
def stats_reset() -> Any:
    """Zero the request counters."""
    sandbox_state().reset_stats()
    return jsonify({})


@bp.get("/settings", endpoint="settings")
def settings() -> Any:
    """The current knobs (without the API key)."""
    state = sandbox_state()
    with state.knob_lock:
        return jsonify(public_settings(state.settings))


@bp.patch("/settings", endpoint="settings_update")
def settings_update() -> Any:
    """Change some knobs at runtime; every field but `api_key`, types checked."""
    changes, errors = validate_settings_patch(load_json(request.get_data()))
    if errors:
        raise ValidationFailed(errors)
    state = sandbox_state()
    with state.knob_lock:  # one-shot counters are used up under the same lock
        for name, value in changes.items():
            setattr(state.settings, name, value)
        body = public_settings(state.settings)
    state.wake()  # e.g. `hold` released: the worker starts at once
    return jsonify(body)


@bp.post("/restart", endpoint="restart")
def restart() -> Any:
    """Forget every operation and restart op id numbering; answers how many were forgotten."""
    raw = request.get_data()
    body = load_json(raw) if raw.strip() else {}
    next_op_id = _int_field(body, "next_op_id", 1, 1, None)
    return jsonify(forgotten=sandbox_state().restart(next_op_id))


@bp.delete("/ops/<int:op_id>", endpoint="forget_op")
def forget_op(op_id: int) -> Any:
    """Forget one operation: from now on the API answers 404 for it."""
    if not sandbox_state().forget_op(op_id):
        return detail("Operation not found", 404)
    return jsonify({})


@bp.post("/ops/bulk", endpoint="bulk_ops")
def bulk_ops() -> Any:
    """Create many operations at once; answers the first and last op_id."""
    body = load_json(request.get_data())
    count = _int_field(body, "count", None, 1, MAX_BULK)
    items = _int_field(body, "items", 1, 1, 10_000)
    method = _choice_field(body, "method", "del", ("add", "upd", "del"))
    state = _choice_field(body, "state", "finished", ("finished", "queued"))
    ids = sandbox_state().bulk_ops(count, method, state, items)
    return jsonify(count=len(ids), first_op_id=ids[0], last_op_id=ids[-1])


def _int_field(body: Any, name: str, default: int | None, low: int, high: int | None) -> int:
    """An integer member of a JSON object body, checked like a FastAPI model field."""
    if not isinstance(body, dict):
        raise ValidationFailed([error(["body"], "Input should be a valid dictionary", "dict_type")])
    value = body.get(name, default)
    if value is None:
        raise ValidationFailed([error(["body", name], "Field required", "missing")])
    if isinstance(value, bool) or not isinstance(value, int):
        msg = "Input should be a valid integer"
        raise ValidationFailed([error(["body", name], msg, "int_type", value)])
    if value < low or (high is not None and value > high):
        msg = f"Input should be between {low} and {high}" if high else f"Input should be >= {low}"
        raise ValidationFailed([error(["body", name], msg, "value_error", value)])
    return value


def _choice_field(body: dict[str, Any], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name, default)
    if value not in allowed:
        msg = f"Input should be one of {', '.join(allowed)}"
        raise ValidationFailed([error(["body", name], msg, "enum", value)])
    return value
