"""`flask --app app audit …`: verify and prune the audit log."""

from __future__ import annotations

from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Verify and prune the audit log.")
