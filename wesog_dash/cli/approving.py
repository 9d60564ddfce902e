"""`flask --app app wesog approve|reject ID`: four eyes from a terminal.

Audited as `cli:<os user>`, who must not be the requester to approve. Exit 0 done, 1 refused
(the message says why), 4 unknown id.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import deletions
from ..accounts.permissions import read_only
from ..wording import counted
from .actor import cli_actor
from .controlling import found, report


@click.command("approve")
@with_appcontext
@click.argument("deletion_id", type=click.IntRange(1))
@click.option("--reason", default="approved from the command line", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the deletion as JSON.")
def approve_command(deletion_id: int, reason: str, as_json: bool) -> None:
    """Send a deletion waiting for approval (someone other than its requester)."""
    if read_only():
        raise click.ClickException("This console is read-only (WESOG_READ_ONLY is set).")
    deletion = found(deletion_id)
    click.echo(
        f"Deletion #{deletion_id} by {deletion.actor}: {counted(deletion.item_count, 'image')}, "
        f"list SHA-256 {deletion.ids_sha256}, reason: {deletion.reason}",
        err=as_json,
    )
    try:
        deletions.approve(deletion_id, actor=cli_actor(), reason=reason)
    except deletions.ApprovalError as error:
        raise click.ClickException(error.message) from error
    report(deletion_id, f"Deletion #{deletion_id} approved: it is being sent.", as_json)


@click.command("reject")
@with_appcontext
@click.argument("deletion_id", type=click.IntRange(1))
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print the deletion as JSON.")
def reject_command(deletion_id: int, reason: str, as_json: bool) -> None:
    """End a deletion waiting for approval without sending anything."""
    found(deletion_id)
    try:
        deletions.reject(deletion_id, actor=cli_actor(), reason=reason)
    except deletions.ApprovalError as error:
        raise click.ClickException(error.message) from error
    report(deletion_id, f"Deletion #{deletion_id} rejected: nothing was sent.", as_json)
