"""`flask --app app metrics …`: recompute the overview's rollups."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import metrics

metrics_cli = AppGroup("metrics", help="The overview's rollups of operations.")


@metrics_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the minute, hour and day rollups from the operations and their samples."""
    done = metrics.rebuild()
    click.echo(
        f"Rebuilt the rollups from {done.operations} operations ({done.samples} samples): "
        f"{done.minute_rows} minute rows, {done.hour_rows} hour rows, {done.day_rows} day rows."
    )
