"""wesog-dash: a web console to delete images from a Wesog Search tenant and audit it.

Where things live (each package's docstring says what it owns and may import):
`accounts/` users, tokens, setup, permissions · `audit/` the hash-chained trail ·
`deletions/` the outbox state machine · `operations/` operation rows · `images/` reads of the
index · `poller/` the one upstream watcher · `upstream/` which API and how its failures read ·
`wesog/` the HTTP client · `sandbox/` the simulator · `models/` tables · `views/` blueprints ·
`cli/` commands · `runner` the poller thread (top) · `signals` the wake-up (bottom).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import database, memory, models, runner
from .cli import register_cli
from .extensions import csrf, db, htmx, login_manager, migrate
from .poller import wakeups
from .telemetry import observe_upstream_call
from .upstream import Upstream
from .views import register_views

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["create_app", "models"]


class Dashboard(Flask):
    """The console's Flask app: its config holds the typed settings (`config.settings`)."""

    config_class = config_module.WatchedConfig


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the dashboard: defaults, then the environment, then `overrides`."""
    app = Dashboard(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.defaults(app.instance_path))
    app.config.update(config_module.from_environment(os.environ))
    app.config.update(overrides or {})
    chosen = config_module.settings(app)  # ConfigError here names a setting that is not valid
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.secret_key(app.instance_path)
    if "TRUSTED_HOSTS" not in (overrides or {}):
        app.config["TRUSTED_HOSTS"] = config_module.trusted_hosts(chosen)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=chosen.session_idle_minutes)
    uri = database.normalize_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", database.engine_options(uri))

    memory.limit_malloc_arenas(chosen.malloc_arenas)
    trust_proxies(app)
    register_extensions(app)
    register_views(app)
    register_cli(app)
    runner.init_app(app)  # the poller thread starts on the first request, not here
    return app


def register_extensions(app: Flask) -> None:
    """Bind the Flask extensions and our own per-app services."""
    db.init_app(app)
    wakeups.install(app)  # NOTIFY the poller process on PostgreSQL
    with app.app_context():
        database.tune_sqlite(db.engine)
        database.check_connections(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        include_object=models.search.include_object,  # the reason FTS lives in a migration
    )
    htmx.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.extensions["wesog_upstream"] = Upstream(
        config_module.settings(app), observer=observe_upstream_call
    )


def trust_proxies(app: Flask) -> None:
    """Behind N proxies (WESOG_TRUSTED_PROXIES), take the client's address from the last N
    X-Forwarded-For hops; with 0, a forged header changes nothing."""
    hops = config_module.settings(app).trusted_proxies
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
