"""`/_sandbox/*`: counters and knobs for tests and benchmarks; not part of the Wesog API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .api import sandbox_state
from .faults import parse_fault
from .settings import public_settings, validate_settings_patch
from .validation import ValidationFailed, load_json

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


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
    return jsonify(public_settings(sandbox_state().settings))


@bp.patch("/settings", endpoint="settings_update")
def settings_update() -> Any:
    """Change some knobs at runtime; every field but `api_key`, types checked."""
    changes, errors = validate_settings_patch(load_json(request.get_data()))
    if errors:
        raise ValidationFailed(errors)
    live = sandbox_state().settings
    for name, value in changes.items():
        setattr(live, name, value)
    return jsonify(public_settings(live))


@bp.get("/faults", endpoint="faults")
def faults() -> Any:
    """How many uses of armed faults remain, per route key."""
    return jsonify(sandbox_state().faults.pending())


@bp.post("/faults", endpoint="faults_arm")
def faults_arm() -> Any:
    """Arm a one-shot fault for a route: reset_before, reset_after, late or body."""
    route, fault, errors = parse_fault(load_json(request.get_data()))
    if errors or fault is None:
        raise ValidationFailed(errors)
    sandbox_state().faults.arm(route, fault)
    return jsonify(sandbox_state().faults.pending()), 201


@bp.delete("/faults", endpoint="faults_clear")
def faults_clear() -> Any:
    """Disarm every fault."""
    sandbox_state().faults.clear()
    return jsonify({})


@bp.post("/restart", endpoint="restart")
def restart() -> Any:
    """Forget every operation, as a restarted API would; `{"reuse_ids": true}` counts from 1."""
    body = load_json(request.get_data() or b"{}")
    reuse = isinstance(body, dict) and body.get("reuse_ids") is True
    return jsonify({"forgotten": sandbox_state().restart(reuse_ids=reuse)})
