"""HTTP views, one blueprint per area of the product."""

from __future__ import annotations

from flask import Flask


def register_views(app: Flask) -> None:
    """Register every blueprint."""
    from . import api, audit, auth, deletions, images, operations, overview, users

    for module in (overview, auth, images, deletions, operations, audit, api, users):
        app.register_blueprint(module.bp)
