"""`flask --app app audit …`: verify and prune the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from .. import audit
from ..audit import chain as audit_chain
from ..extensions import db
from .actor import cli_actor

audit_cli = AppGroup("audit", help="Verify and prune the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the whole hash chain; exit 1 at the first broken link."""
    report = audit_chain.verify()
    details: dict[str, object] = {"events": report.count}
    if report.last is not None:
        details["through_id"] = report.last.event_id
    if not report.intact:
        details.update(broken_id=report.broken_id, problem=report.problem)
    audit.record(
        "audit.verified",
        actor=cli_actor(),
        outcome="intact" if report.intact else "broken",
        details=details,
    )
    db.session.commit()
    click.echo(report.summary())
    if not report.intact:
        raise SystemExit(1)


def utc_moment(value: datetime) -> datetime:
    """A date or time typed on the command line, read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@audit_cli.command("prune")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    help="Remove events older than this UTC date (YYYY-MM-DD) or time.",
)
@click.option("--yes", is_flag=True, help="Really delete (without it, only say what would go).")
def prune_command(before: datetime, yes: bool) -> None:
    """Delete events older than --before; the chain still verifies from the first one kept."""
    moment = utc_moment(before)
    plan = audit_chain.plan_prune(moment)
    if not plan.count:
        click.echo(plan.describe())
        return
    if not yes:
        click.echo(f"Would remove {plan.describe()}.")
        click.echo("Nothing was deleted: run again with --yes to prune.")
        raise SystemExit(1)
    done = audit_chain.prune(moment, actor=cli_actor())
    click.echo(f"Removed {done.describe()}; recorded an audit.pruned event.")
