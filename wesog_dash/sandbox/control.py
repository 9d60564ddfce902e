"""`/_sandbox/*`: counters and knobs for tests and benchmarks; not part of the Wesog API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .api import sandbox_state
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
    state = sandbox_state()
    live = state.settings
    for name, value in changes.items():
        setattr(live, name, value)
    state.settings_changed()
    return jsonify(public_settings(live))
