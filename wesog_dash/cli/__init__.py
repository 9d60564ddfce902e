"""Command-line interface: `flask --app app wesog|users|audit|metrics …`."""

from __future__ import annotations

from flask import Flask

from .approving import approve_command, reject_command
from .audit import audit_cli
from .controlling import cancel_command, pause_command, resume_command, retry_command
from .deleting import delete_command
from .metrics import metrics_cli
from .policies import policy_cli
from .users import users_cli
from .watching import watch_command
from .wesog import wesog_cli


def register_cli(app: Flask) -> None:
    """Attach every command group to the app."""
    wesog_cli.add_command(delete_command)
    wesog_cli.add_command(watch_command)
    wesog_cli.add_command(policy_cli)
    for command in (
        pause_command,
        resume_command,
        cancel_command,
        retry_command,
        approve_command,
        reject_command,
    ):
        wesog_cli.add_command(command)
    for group in (wesog_cli, users_cli, audit_cli, metrics_cli):
        app.cli.add_command(group)
