"""wesog-dash: a web console to delete images from a Wesog Search tenant and audit it."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as config_module
from . import database
from .extensions import csrf, db, htmx, limiter, login_manager, migrate
from .upstream import Upstream

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the dashboard: defaults, then the environment, then `overrides`."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.defaults(app.instance_path))
    app.config.update(config_module.from_environment(os.environ))
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.secret_key(app.instance_path)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        minutes=int(app.config["SESSION_IDLE_MINUTES"])
    )
    uri = database.normalize_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", database.engine_options(uri))

    register_extensions(app)
    register_blueprints(app)
    register_hardening(app)
    from .cli import register_cli

    register_cli(app)
    from . import background

    background.init_app(app)  # the poller thread starts on the first request, not here
    return app


def register_extensions(app: Flask) -> None:
    """Bind the Flask extensions and our own per-app services."""
    from . import models  # noqa: F401  (models must be imported before Migrate looks)
    from .database import tune_sqlite

    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    htmx.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.extensions["wesog_upstream"] = Upstream(app.config)

    from . import web

    web.init_app(app)


def register_hardening(app: Flask) -> None:
    """Security headers, session cookies and idle expiry, and the first-run setup redirect."""
    from . import nul_guard, security, setup

    nul_guard.init_app(app)
    security.init_app(app)
    setup.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area of the product."""
    from .views import register_views

    register_views(app)
