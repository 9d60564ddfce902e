"""`flask --app app wesog policy add|list|pause|resume|run`: retention policies from a terminal.

Audited as `cli:<os user>`. A new policy waits until someone else approves its dry run (on
/policies or through the API). Exit 0 done, 1 refused (the message says why), 4 unknown name.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import policies, signals
from ..models import PolicyRun, RetentionPolicy
from ..wording import counted
from .actor import cli_actor

policy_cli = AppGroup("policy", help="Retention policies: saved searches deleted on a schedule.")


class UnknownPolicy(click.ClickException):
    """No policy has this name (exit 4, as an unknown deletion id)."""

    exit_code = 4


def named(name: str) -> RetentionPolicy:
    """The policy called `name`, or exit 4."""
    try:
        return policies.find_policy(name)
    except policies.PolicyError as error:
        raise UnknownPolicy(error.message) from error


def describe(policy: RetentionPolicy) -> str:
    """One line: name, state, schedule, limit, next run."""
    upcoming = policy.next_run_at.isoformat(timespec="seconds") if policy.next_run_at else "—"
    return (
        f"{policy.name}\t{policy.state}\t{policy.schedule}\tmax {policy.max_images}\t"
        f"next {upcoming}\tq={policy.query}"
    )


@policy_cli.command("add")
@click.argument("name")
@click.option("--query", "-q", required=True, help="The search formula, as on /images.")
@click.option("--every", type=int, help="Run every this many minutes.")
@click.option("--cron", help='Or at the times of a cron expression (UTC), e.g. "0 3 * * *".')
@click.option("--max", "max_images", required=True, type=int, help="Most images one run deletes.")
@click.option("--reason", required=True, help="Why (recorded with every deletion it makes).")
def add_command(
    name: str, query: str, every: int | None, cron: str | None, max_images: int, reason: str
) -> None:
    """Save a policy and make its dry run; it runs once someone else approves it."""
    rule = policies.PolicyRule(name, query, every, cron, max_images, reason)
    try:
        policy = policies.add_policy(rule, actor=cli_actor())
    except policies.PolicyError as error:
        raise click.ClickException(error.message) from error
    run = policies.dry_run(policy.id, actor=cli_actor())
    click.echo(f"Policy {policy.name} saved ({policy.schedule}, at most {max_images} a run).")
    show_dry_run(run)
    click.echo("It waits for someone other than you to approve this dry run (/policies).")


def show_dry_run(run: PolicyRun) -> None:
    """Print a dry run: count, what one run would take, the first ids."""
    if run.outcome == "failed":
        raise click.ClickException(f"Dry run failed: {run.message}")
    click.echo(
        f"Dry run: {counted(run.matched or 0, 'image')} "
        f"{'matches' if run.matched == 1 else 'match'}; one run would delete {run.taken:,}."
    )
    for image_id in run.first_ids or []:
        click.echo(f"  {image_id}")


@policy_cli.command("list")
def list_command() -> None:
    """Every policy: name, state, schedule, limit, next run, formula."""
    found = policies.all_policies()
    for policy in found:
        click.echo(describe(policy))
    if not found:
        click.echo("No retention policy yet (wesog policy add).")


@policy_cli.command("pause")
@click.argument("name")
def pause_command(name: str) -> None:
    """No more runs until resumed (a run already started goes on)."""
    try:
        policies.pause_policy(named(name).id, actor=cli_actor())
    except policies.PolicyError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Policy {name} paused.")


@policy_cli.command("resume")
@click.argument("name")
def resume_command(name: str) -> None:
    """Run again from the next slot (missed slots are not made up)."""
    try:
        policy = policies.resume_policy(named(name).id, actor=cli_actor())
    except policies.PolicyError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Policy {name} is {policy.state}.")


@policy_cli.command("run")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Only say what it would delete now.")
def run_command(name: str, dry_run: bool) -> None:
    """A dry run now (--dry-run), or make an active policy due now (the poller runs it)."""
    policy = named(name)
    if dry_run:
        show_dry_run(policies.dry_run(policy.id, actor=cli_actor()))
        return
    try:
        policies.request_run(policy.id, actor=cli_actor())
    except policies.PolicyError as error:
        raise click.ClickException(error.message) from error
    signals.wake()
    click.echo(f"Policy {name} is due now: the poller runs it at its next cycle.")
