"""`flask --app app wesog …`: the sandbox and the poller (`delete` and `watch` live in
`deleting.py` and `watching.py`)."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import AppGroup
from prometheus_client import start_http_server

from ..config import settings
from ..deletions import prune_keys, prune_snapshots
from ..deletions.safety.once import KEEP_DAYS
from ..poller import Poller, end_frozen_transactions, wakeups
from ..sandbox import SandboxSettings, run_standalone
from ..signals import wake_event
from ..telemetry.prometheus import REGISTRY
from ..wording import counted

wesog_cli = AppGroup(
    "wesog",
    help="The Wesog API: delete, watch, pause, resume, cancel, retry; the sandbox, the poller.",
)


@wesog_cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--api-key", required=True, help="The API-Key clients must send.")
@click.option("--images", default=500, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--item-ms", default=150.0, show_default=True, type=click.FloatRange(0))
@click.option("--start-ms", default=300, show_default=True, type=click.IntRange(0))
@click.option("--fail-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1))
def sandbox_command(
    host: str, port: int, api_key: str, images: int, item_ms: float, start_ms: int, fail_rate: float
) -> None:
    """Run the Wesog sandbox alone, in the foreground."""
    settings = SandboxSettings(
        api_key=api_key, images=images, item_ms=item_ms, start_ms=start_ms, fail_rate=fail_rate
    )
    click.echo(f"Wesog sandbox on http://{host}:{port} with {images} demo images (Ctrl+C stops)")
    run_standalone(host, port, settings)


@wesog_cli.command("poll")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve this process's Prometheus metrics on 127.0.0.1:PORT (upstream calls).",
)
def poll_command(metrics_port: int | None) -> None:
    """Run the poller (and the deletion dispatcher) in the foreground until Ctrl+C."""
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        idle = end_frozen_transactions(app)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    # The app's own wake-up event: a deletion queued in this process, or a NOTIFY from a
    # web process (PostgreSQL), starts a cycle at once instead of at the next interval.
    wake, stop = wake_event(app), threading.Event()
    poller = Poller(app, wake_event=wake, lease_ttl=settings(app).lease_ttl)
    wakeups.listen(app, wake, stop)
    click.echo(f"Wesog poller {poller.holder} starting (Ctrl+C stops)")
    if idle is not None:
        click.echo(f"PostgreSQL ends a transaction of this poller left idle {idle:.3g} s")
    try:
        poller.run_forever(stop, report=click.echo)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        poller.close()  # idempotent: releases the lease so a stand-by poller takes over
    click.echo("Wesog poller stopped")


@wesog_cli.command("prune-snapshots")
@click.option(
    "--days",
    type=click.IntRange(0),
    default=None,
    help="Keep this many days (default: WESOG_SNAPSHOT_DAYS).",
)
def prune_snapshots_command(days: int | None) -> None:
    """Delete the metadata kept of deleted images once older than WESOG_SNAPSHOT_DAYS (and the
    idempotency keys of actions, after a week)."""
    count = prune_snapshots(days, actor="cli:prune-snapshots")
    kept = days if days is not None else settings().snapshot_days
    click.echo(f"Pruned {counted(count, 'snapshot')} older than {kept} days.")
    click.echo(f"Forgot {counted(prune_keys(), 'idempotency key')} older than {KEEP_DAYS} days.")
