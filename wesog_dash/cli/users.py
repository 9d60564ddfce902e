"""`flask --app app users …`: manage console accounts (every change is audited)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from .. import accounts
from ..accounts import first_run as setup
from ..accounts import sessions, tokens
from ..models import ROLES, TOKEN_SCOPES
from ..wording import counted
from .actor import cli_actor

users_cli = AppGroup("users", help="Manage console users.")


def read_password(from_stdin: bool) -> str:
    """The new password: one line from stdin, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(name: str, role: str, password_stdin: bool) -> None:
    """Create a user with a role; the password is prompted (hidden, asked twice)."""
    password = read_password(password_stdin)
    try:
        user = accounts.create_user(name, password, role, actor=cli_actor())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.username} ({user.role}).")


@users_cli.command("list")
def list_command() -> None:
    """List every user with role, status and last login."""
    users = accounts.list_users()
    if not users:
        click.echo("No users yet. Create one with: flask --app app users create NAME --role admin")
        return
    click.echo(f"{'username':<24} {'role':<9} {'status':<9} {'tokens':>6}  last login (UTC)")
    for user in users:
        status = "disabled" if user.disabled else "active"
        live = sum(1 for token in user.tokens if tokens.token_status(token) == "active")
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.username:<24} {user.role:<9} {status:<9} {live:>6}  {seen}")


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(name: str, role: str) -> None:
    """Give a user another role; their sessions end, so it applies from their next login."""
    try:
        user = accounts.set_role(name, role, actor=cli_actor())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{user.username} is now {user.role}.")


@users_cli.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    """Disable a user: their sessions and API tokens stop working at once."""
    try:
        user = accounts.disable_user(name, actor=cli_actor())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{user.username} is disabled.")


@users_cli.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(name: str, password_stdin: bool) -> None:
    """Give a user a new password; their open sessions end."""
    try:
        user = accounts.set_password(name, read_password(password_stdin), actor=cli_actor())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{user.username} has a new password; their sessions were ended.")


@users_cli.command("logout")
@click.argument("name")
def logout_command(name: str) -> None:
    """End every session of a user, on every device."""
    try:
        user = accounts.get_user(name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    ended = sessions.log_out_everywhere(user, actor=cli_actor())
    click.echo(f"{user.username}: {counted(ended, 'session')} ended.")


@users_cli.command("token")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(TOKEN_SCOPES),
    default=None,
    help="read: only reads; operate: what the role allows. Default: what the role allows.",
)
@click.option(
    "--expires-days",
    type=click.IntRange(1, tokens.MAX_EXPIRY_DAYS),
    default=tokens.DEFAULT_EXPIRY_DAYS,
    show_default=True,
    help="Days until the token stops working.",
)
@click.option("--label", default=None, help="What the token is for (shown in lists).")
def token_command(name: str, scope: str | None, expires_days: int, label: str | None) -> None:
    """Issue a personal API token and print it once, as the last word (only its hash is kept)."""
    try:
        issued = tokens.issue(
            accounts.get_user(name),
            actor=cli_actor(),
            scope=scope,
            expires_days=expires_days,
            label=label,
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        "This token is shown only now; keep it secret. Send it as the header "
        "'Authorization: Bearer <token>' to /api/v1/.",
        err=True,
    )
    expires = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"Token {issued.id} ({issued.scope}, expires {expires}): {issued.token}")


@users_cli.command("tokens")
@click.argument("name")
def tokens_command(name: str) -> None:
    """List a user's API tokens: id, scope, status, expiry, last use, label (never secrets)."""
    try:
        rows = tokens.tokens_of(accounts.get_user(name))
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    if not rows:
        click.echo(f"{name} has no API token.")
        return
    click.echo(
        f"{'id':>5}  {'scope':<8} {'status':<8} {'expires (UTC)':<17} {'last used':<17} label"
    )
    for row in rows:
        used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never"
        expires = row.expires_at.strftime("%Y-%m-%d %H:%M")
        status = tokens.token_status(row)
        click.echo(
            f"{row.id:>5}  {row.scope:<8} {status:<8} {expires:<17} {used:<17} {row.label or ''}"
        )


@users_cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token by id: it stops working at once (audited)."""
    try:
        row = tokens.revoke(token_id, actor=cli_actor())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Token {row.id} of {row.user.username} is revoked.")


@users_cli.command("setup-url")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the server will be reached, e.g. http://HOST:PORT.",
)
def setup_url_command(base_url: str) -> None:
    """Print a one-time URL (valid one hour) that creates the first admin, if none exists."""
    count = accounts.user_count()
    if count:
        click.echo(
            f"Setup is complete ({counted(count, 'user')} {'exists' if count == 1 else 'exist'}); "
            f"log in at {base_url}/login"
        )
        return
    url = setup.setup_url(base_url, setup.issue_setup_token())
    click.echo("")
    click.echo("  No user exists yet. Create the first admin here (valid one hour, works once):")
    click.echo(f"    {url}")
    click.echo("")
