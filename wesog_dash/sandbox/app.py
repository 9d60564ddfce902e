"""Factory of the sandbox Flask app: blueprints, API-key guard, fault injection, JSON errors."""

from __future__ import annotations

import hmac
import re
import time
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import api, control, faults
from .dialect import RateWindow, retry_after_header
from .settings import SandboxSettings
from .store import SandboxState
from .validation import ValidationFailed

_PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def create_sandbox_app(settings: SandboxSettings | None = None) -> Flask:
    """Build a sandbox app with its own seeded in-memory state (worker starts on first write)."""
    settings = settings or SandboxSettings()
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the reference's field order
    app.extensions["wesog_sandbox"] = SandboxState(settings)
    app.extensions["wesog_sandbox_rate"] = RateWindow()
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.before_request(_guard)
    app.after_request(_add_latency)
    app.after_request(_malform)
    app.register_error_handler(faults.NoAnswer, _no_answer)
    app.register_error_handler(ValidationFailed, _validation_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    return app


def _route_key() -> str:
    """The counter key of the request: method plus route template, e.g. "GET /ops/{op_id}"."""
    assert request.url_rule is not None
    template = _PLACEHOLDER.sub(r"{\1}", request.url_rule.rule)
    return f"{request.method} {template}"


def _guard() -> Any:
    """Count the request, check the API key, then maybe inject a 429 or 503."""
    if request.url_rule is None:
        return None  # unknown path: routing answers 404, like FastAPI, before any auth
    state = api.sandbox_state()
    settings = state.settings
    is_control = request.blueprint == control.bp.name
    is_api = not is_control and request.endpoint != "wesog_api.thumbnail"
    g.sandbox_api = is_api
    if not is_control:
        state.count(_route_key())
    if not (is_api or is_control):
        return None
    if not hmac.compare_digest(request.headers.get("API-Key", ""), settings.api_key):
        if settings.auth_status == 403:
            return jsonify(detail="Not authenticated"), 403
        response = jsonify(detail="Invalid or missing API key")
        response.headers["WWW-Authenticate"] = "APIKey"
        return response, 401
    if is_api and state.chance(settings.rate_429):
        return _too_many(str(settings.retry_after))
    if is_api and settings.max_calls_per_second > 0:
        wait = current_app.extensions["wesog_sandbox_rate"].admit(settings.max_calls_per_second)
        if wait is not None:
            return _too_many(retry_after_header(wait))
    if is_api and state.chance(settings.rate_5xx):
        return jsonify(detail="Service Unavailable"), 503
    return None


def _too_many(retry_after: str) -> Any:
    response = jsonify(detail="Too Many Requests")
    response.headers["Retry-After"] = retry_after
    return response, 429


def _add_latency(response: Response) -> Response:
    """Delay API answers after the work is done, so a client timeout still leaves the op created."""
    latency_ms = api.sandbox_state().settings.latency_ms
    if g.get("sandbox_api") and latency_ms > 0:
        time.sleep(latency_ms / 1000)
    return response


def _malform(response: Response) -> Response:
    """Spoil a successful API answer when a `malformed` rule names its endpoint."""
    if g.get("sandbox_dropped") or not 200 <= response.status_code < 300:
        return response
    endpoint = faults.ENDPOINTS.get(request.endpoint or "")
    state = api.sandbox_state()
    if endpoint is None or not state.settings.malformed:
        return response
    with state.knob_lock:
        rule = faults.take_rule(state.settings.malformed, endpoint)
    return response if rule is None else faults.spoil(response, rule)


def _no_answer(exc: faults.NoAnswer) -> Response:
    return Response(status=204)  # never delivered: the connection is already shut down


def _validation_failed(exc: ValidationFailed) -> Any:
    return jsonify(detail=exc.errors), 422


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    response = jsonify(detail=HTTPStatus(code).phrase)
    allowed = getattr(exc, "valid_methods", None)
    if code == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response, code


def _internal_error(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    current_app.logger.exception("sandbox request failed")
    return jsonify(detail="Internal Server Error"), 500
