"""Probes and metrics for load balancers and monitoring: /readyz and /metrics.

/healthz (liveness, in `overview`) touches nothing; /readyz answers 200 only when the database
answers, its schema is at the newest migration and a poller beats; /metrics is off unless
WESOG_METRICS=1; with WESOG_METRICS_TOKEN set it answers only `Authorization: Bearer <token>`
(loopback included: a local proxy makes everyone loopback), without one only loopback clients.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request

from .. import heartbeat, runner
from ..config import settings
from ..database import schema_status
from ..telemetry import render_metrics
from .proxies import untrusted_forwarding

bp = Blueprint("health", __name__)


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """Ready when the database answers and migrations are current; says what the poller does."""
    status = schema_status(current_app)
    body = {
        "database": status.database,
        "migrations": status.migrations,
        "poller": runner.poller_status(current_app._get_current_object()),  # type: ignore[attr-defined]
    }
    ready = status.database == "ok" and status.migrations == "current"
    if ready:
        beat = heartbeat.check(current_app._get_current_object())  # type: ignore[attr-defined]
        body["heartbeat"] = beat.reason
        ready = not beat.stale
    proxy = untrusted_forwarding(current_app._get_current_object())  # type: ignore[attr-defined]
    if proxy:
        body["proxy"] = proxy
    body["status"] = "ready" if ready else "not ready"
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ready else 503


def _from_loopback() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _has_metrics_token() -> bool:
    expected = settings().metrics_token or ""
    sent = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), f"Bearer {expected}".encode())


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition (when enabled) for loopback clients or holders of the token."""
    if not settings().metrics:
        abort(404)
    if settings().metrics_token:
        # With a token set, loopback is no proof: behind a local proxy everyone is loopback.
        if not _has_metrics_token():
            abort(403, description="Send the metrics token: Authorization: Bearer <token>.")
    elif not _from_loopback():
        abort(403, description="Metrics answer loopback clients only; set WESOG_METRICS_TOKEN.")
    body, content_type = render_metrics(current_app._get_current_object())  # type: ignore[attr-defined]
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
