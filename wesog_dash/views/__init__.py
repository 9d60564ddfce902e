"""HTTP views: one blueprint per area, plus the helpers they share (`common`, `display`) and
the hardening every response gets. Views call services and render templates; they never
import the Wesog client (`wesog`) or `requests`, and never commit.
"""

from __future__ import annotations

from flask import Flask

from . import (
    api,
    approvals,
    audit,
    auth,
    common,
    deletion_list,
    deletions,
    hardening,
    health,
    images,
    malformed,
    nul_guard,
    operations,
    outage,
    overview,
    policies,
    proxies,
    receipts,
    reports,
    safety,
    selections,
    tokens,
    users,
)


def register_views(app: Flask) -> None:
    """Register the shared helpers, the hardening and every blueprint."""
    common.init_app(app)
    hardening.init_app(app)
    malformed.init_app(app)
    proxies.init_app(app)
    outage.init_app(app)
    nul_guard.init_app(app)
    for module in (
        overview,
        health,
        auth,
        images,
        deletions,
        approvals,
        deletion_list,
        safety,
        selections,
        operations,
        audit,
        reports,
        receipts,
        policies,
        api,
        users,
        tokens,
    ):
        app.register_blueprint(module.bp)
