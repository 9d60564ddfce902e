"""`flask --app app wesog pause|resume|cancel|retry ID`: the safety net from a terminal.

The same services as the browser's buttons and the API, audited as `cli:<os user>`; resume and
retry send images, so they are refused while read-only. Exit 0 done, 1 refused (the message
says why), 4 unknown id.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from .. import deletions
from ..accounts.permissions import read_only
from ..config import settings
from ..models import DeletionRequest
from ..shapes.serialize import deletion_out
from ..upstream import UpstreamProblem
from .actor import cli_actor
from .watching import watch


class UnknownDeletion(click.ClickException):
    """No deletion request has this id (exit 4, as `watch`)."""

    exit_code = 4


def found(deletion_id: int) -> DeletionRequest:
    """The deletion request, or exit 4."""
    deletion = deletions.get_deletion(deletion_id)
    if deletion is None:
        raise UnknownDeletion(f"There is no deletion request #{deletion_id}.")
    return deletion


def writable(action: str) -> None:
    """Refuse an action that sends images while the console is read-only."""
    if read_only():
        raise click.ClickException(
            f"This console is read-only (WESOG_READ_ONLY is set): {action} would send images."
        )


def report(deletion_id: int, message: str, as_json: bool) -> None:
    """Say what happened; with --json the message goes to stderr, the deletion to stdout."""
    click.echo(message, err=as_json)
    if as_json:
        click.echo(json.dumps(deletion_out(found(deletion_id)).model_dump(mode="json")))


def control_command(name: str, change: Callable[[int, str], Any], help_text: str) -> Any:
    """A `wesog pause|resume|cancel ID [--json]` command around one control service."""

    @click.command(name, help=help_text)
    @with_appcontext
    @click.argument("deletion_id", type=click.IntRange(1))
    @click.option("--json", "as_json", is_flag=True, help="Print the deletion as JSON.")
    def command(deletion_id: int, as_json: bool) -> None:
        if name == "resume":
            writable("resuming")
        found(deletion_id)
        try:
            done = change(deletion_id, cli_actor())
        except deletions.ControlError as error:
            raise click.ClickException(str(error)) from error
        said = done.message if isinstance(done, deletions.CancelReport) else str(done)
        report(deletion_id, said, as_json)  # what it did ("1 chunk was already being sent…")

    return command


pause_command = control_command(
    "pause", deletions.pause, "Keep the unsent chunks of a deletion until resumed."
)
resume_command = control_command("resume", deletions.resume, "Send a paused deletion again.")
cancel_command = control_command(
    "cancel", deletions.cancel, "Drop the unsent chunks and cancel queued operations upstream."
)


@click.command("retry")
@with_appcontext
@click.argument("deletion_id", type=click.IntRange(1))
@click.option("--image-id", help="Retry only this failed id.")
@click.option("--json", "as_json", is_flag=True, help="Print the new deletion as JSON.")
@click.option("--watch", "then_watch", is_flag=True, help="Then watch it (exit code as `watch`).")
def retry_command(deletion_id: int, image_id: str | None, as_json: bool, then_watch: bool) -> None:
    """A new deletion of exactly the failed ids of one (same reason and options)."""
    writable("retrying")
    found(deletion_id)
    try:
        child = deletions.retry_failures(
            deletion_id,
            deletions.Requester(cli_actor()),
            only=image_id,
            send_inline=bool(settings().api_url),
        )
    except (deletions.DeletionInputError, UpstreamProblem) as error:
        raise click.ClickException(str(error)) from error
    child_id = child.id
    report(child_id, f"Retry of #{deletion_id}: deletion #{child_id} created.", as_json)
    if then_watch:
        sys.exit(watch(child_id, None, as_json=as_json))
