"""`flask --app app users …`: manage console accounts."""

from __future__ import annotations

from flask.cli import AppGroup

users_cli = AppGroup("users", help="Manage console users.")
