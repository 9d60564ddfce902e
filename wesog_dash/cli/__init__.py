"""Command-line interface: `flask --app app wesog|users|audit|metrics …`."""

from __future__ import annotations

from flask import Flask

from .audit import audit_cli
from .metrics import metrics_cli
from .users import users_cli
from .wesog import wesog_cli


def register_cli(app: Flask) -> None:
    """Attach every command group to the app."""
    for group in (wesog_cli, users_cli, audit_cli, metrics_cli):
        app.cli.add_command(group)
