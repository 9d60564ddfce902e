"""`flask --app app wesog delete (--ids-file F | --query Q | ID…) --reason R …`.

It shows what will be sent and asks (unless --yes), then writes the deletion request to the
outbox, exactly as the browser's confirmation does; the poller sends it (a single id without
--wait is sent at once when WESOG_API_URL is set). Audited as `cli:<os user>`.
"""

from __future__ import annotations

import json
import sys
from typing import IO

import click
from flask.cli import with_appcontext

from .. import deletions, images
from ..accounts.permissions import read_only
from ..config import settings
from ..models import DeletionRequest
from ..shapes.serialize import deletion_out
from ..upstream import UpstreamProblem
from ..wording import counted
from .actor import cli_actor
from .watching import watch

PREVIEW = 3


def gather_ids(ids_file: IO[bytes] | None, query: str | None, ids: tuple[str, ...]) -> list[str]:
    """The ids from exactly one source: a file, a search formula, or the arguments."""
    if sum(bool(source) for source in (ids_file, query, ids)) != 1:
        raise click.UsageError("Give the ids one way: --ids-file F, --query Q, or ID arguments.")
    if ids_file is not None:
        try:
            return deletions.ids_from_text(ids_file.read().decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise click.ClickException("The id file must be UTF-8 text.") from error
    if ids:
        return list(ids)
    if not settings().api_url:
        raise click.UsageError(
            "--query needs WESOG_API_URL: the embedded sandbox lives in the web process "
            "(use the Images page, or run `flask wesog sandbox` and point WESOG_API_URL at it)."
        )
    try:
        return images.matching_ids(query or "").ids
    except (images.TooManyMatches, UpstreamProblem) as error:
        raise click.ClickException(str(error)) from error


def describe(ids: list[str], reason: str, ticket: str | None, flags: dict[str, bool]) -> str:
    """What will be sent, in a few lines."""
    shown = ", ".join(ids[:PREVIEW]) + (f", … {ids[-1]}" if len(ids) > PREVIEW else "")
    chosen = ", ".join(name for name, on in flags.items() if on) or "none"
    chunks = -(-len(ids) // settings().chunk_size)
    lines = [
        f"About to delete {counted(len(ids), 'image')}: {shown}",
        f"  reason: {reason}",
        f"  ticket: {ticket or '—'}",
        f"  options: {chosen}",
        f"  sent as {counted(chunks, 'operation')} of at most {settings().chunk_size:,} ids",
    ]
    return "\n".join(lines)


@click.command("delete")
@with_appcontext
@click.argument("image_ids", nargs=-1)
@click.option("--ids-file", type=click.File("rb"), help="Ids, one per line (- for stdin).")
@click.option("--query", help="A Wesog search formula: every match is deleted.")
@click.option("--reason", required=True, help="Why these images are deleted (audited).")
@click.option("--ticket", help="A ticket reference.")
@click.option("--wait", is_flag=True, help="The API finishes the operation before answering.")
@click.option("--urgent", is_flag=True, help="To the head of the tenant's queue.")
@click.option("--strict", is_flag=True, help="A missing id fails its element.")
@click.option(
    "--restorable-only",
    is_flag=True,
    help="Images whose metadata cannot be kept for a restore are not deleted.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the created request as JSON.")
@click.option("--watch", "then_watch", is_flag=True, help="Then watch it (exit code as `watch`).")
def delete_command(
    image_ids: tuple[str, ...],
    ids_file: IO[bytes] | None,
    query: str | None,
    reason: str,
    ticket: str | None,
    wait: bool,
    urgent: bool,
    strict: bool,
    restorable_only: bool,
    yes: bool,
    as_json: bool,
    then_watch: bool,
) -> None:
    """Delete images: show what will be sent, ask, then queue it like the browser does."""
    if read_only():
        raise click.ClickException("This console is read-only (WESOG_READ_ONLY is set).")
    if ids_file is not None and ids_file.name == "<stdin>" and not yes:
        raise click.UsageError("--ids-file - reads stdin: add --yes (there is no one to ask).")
    try:
        ids = deletions.clean_ids(gather_ids(ids_file, query, image_ids))
    except deletions.DeletionInputError as error:
        raise click.ClickException(error.message) from error
    flags = {"wait": wait, "urgent": urgent, "strict": strict, "restorable_only": restorable_only}
    click.echo(describe(ids, reason, ticket, flags), err=as_json)
    if not yes and not click.confirm("Send it?", default=False, err=as_json):
        click.echo("Nothing was sent.", err=True)
        sys.exit(1)
    found = create(ids, reason, ticket, flags, query)
    if as_json:
        click.echo(json.dumps(deletion_out(found).model_dump(mode="json")))
    else:
        click.echo(
            f"Deletion request {found.id}: {counted(found.item_count, 'image')}, {found.state}."
        )
        click.echo(f"Follow it: flask --app app wesog watch {found.id}")
    if then_watch:
        sys.exit(watch(found.id, None, as_json=as_json))


def create(
    ids: list[str], reason: str, ticket: str | None, flags: dict[str, bool], query: str | None
) -> DeletionRequest:
    """Write the request (sent at once only for one id, with a configured API)."""
    kind = "query" if query else "list" if len(ids) > 1 else "single"
    try:
        return deletions.request_deletion(
            ids,
            deletions.DeletionOptions(reason, ticket, **flags),
            deletions.Requester(cli_actor()),
            kind=kind,
            query=query,
            send_inline=bool(settings().api_url),
        )
    except deletions.DeletionInputError as error:
        raise click.ClickException(error.message) from error
    except UpstreamProblem as error:
        raise click.ClickException(error.message) from error
