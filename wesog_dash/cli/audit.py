"""`flask --app app audit …`: verify and prune the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.cli import AppGroup

from .. import audit
from ..audit import chain as audit_chain
from ..audit import digests as digests_module
from ..audit import receipt_format
from ..extensions import db
from ..wording import counted
from .actor import cli_actor

audit_cli = AppGroup("audit", help="Verify and prune the audit log.")


@audit_cli.command("verify")
@click.option(
    "--digests",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check every signed digest in this directory against the chain.",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM public key the digests must be signed with (default: this console's own).",
)
def verify_command(digests: Path | None, public_key: Path | None) -> None:
    """Walk the whole hash chain (and the signed digests); exit 1 at the first problem."""
    if digests is not None:
        _check_digests(digests, public_key)
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


def _public_key(public_key_file: Path | None) -> Ed25519PublicKey:
    """The key given on the command line, else this console's own (created on first use)."""
    if public_key_file is not None:
        try:
            key = serialization.load_pem_public_key(public_key_file.read_bytes())
        except ValueError as exc:
            raise click.ClickException(f"{public_key_file} is not a PEM public key.") from exc
    else:
        key = digests_module.signing_key().public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise click.ClickException("The public key is not an Ed25519 key.")
    return key


def _check_digests(directory: Path, public_key_file: Path | None) -> None:
    """Print each digest that does not hold; exit 1 when any does not."""
    key = _public_key(public_key_file)
    checked, problems = digests_module.verify_digests(directory, key)
    for problem in problems:
        click.echo(f"digest {problem.path.name}: {problem.problem}")
    if problems:
        click.echo(f"digests broken: {len(problems)} of {checked} do not hold")
        raise SystemExit(1)
    click.echo(f"digests intact: {checked} signed heads are in the chain")


@audit_cli.command("keys")
def keys_command() -> None:
    """Print the public key of the digest signing key (created on first use)."""
    key = digests_module.signing_key()
    click.echo(digests_module.public_pem(key.public_key()).rstrip())
    click.echo(
        f"key id {digests_module.key_id(key.public_key())}; the private key is in "
        f"{digests_module.key_path()} (keep it off the database host's backups)",
        err=True,
    )


@audit_cli.command("digest")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def digest_command(directory: Path) -> None:
    """Sign the current chain head now, into DIR."""
    path = digests_module.sign_head(directory)
    click.echo(f"signed the head into {path}" if path else "the log is empty: nothing to sign")


@audit_cli.command("verify-receipt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM public key the receipt must be signed with (default: this console's own).",
)
def verify_receipt_command(file: Path, public_key: Path | None) -> None:
    """Check an erasure receipt offline: exit 0 when intact, 1 naming each change."""
    try:
        receipt = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{file} is not a JSON receipt ({exc}).") from exc
    key = _public_key(public_key)
    problems = receipt_format.check(receipt, key, digests_module.key_id(key))
    for problem in problems:
        click.echo(f"changed: {problem}")
    if problems:
        click.echo(f"receipt broken: {file.name} is not what was signed")
        raise SystemExit(1)
    deletion = receipt.get("deletion") or {}
    click.echo(
        f"receipt intact: deletion #{deletion.get('id')}, "
        f"{counted(len(receipt.get('items') or []), 'image')}, issued {receipt.get('issued_at')}, "
        f"signed by key {receipt.get('key_id')}"
    )
