"""`flask --app app wesog watch (DELETION_ID | --op OP_ID)`: a live bar until it ends.

It reads the database, as the browser's pages do. With a configured API (WESOG_API_URL) it
also runs a poller in this process, which works only when no other poller holds the lease
(otherwise it stands by and this command just reads). With the embedded sandbox, which lives
inside the web process, it only reads: that process sends and polls.
Exit codes: 0 all deleted, 1 some items failed, 2 a usage error (click's), 3 --timeout
reached, 4 no such deletion/operation, 5 rejected by the Wesog API, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from ..config import settings
from ..poller import Poller
from .follow import (
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_TIMEOUT,
    Rate,
    Reading,
    as_record,
    read_deletion,
    read_operation,
)


def seconds(value: float | None) -> str:
    """A duration for the bar: 42 s, 3 min 05 s, or ? when unknown."""
    if value is None:
        return "?"
    if value < 60:
        return f"{value:.0f} s"
    minutes, secs = divmod(int(value), 60)
    return f"{minutes} min {secs:02d} s"


class Bar:
    """The live terminal bar (rich): good/failed/total, rate, ETA; state changes above it."""

    def __init__(self, console: Console) -> None:
        # Named ANSI colours, not rich's RGB defaults: in a 16-colour terminal those all become
        # grey, and a finished bar looked like an empty one.
        bar = BarColumn(
            style="bright_black",
            complete_style="cyan",
            finished_style="green",
            pulse_style="cyan",
        )
        self.progress = Progress(
            TextColumn("{task.description}"),
            bar,
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            console=console,
            auto_refresh=False,
        )
        self.task: TaskID | None = None
        self.state: str | None = None

    def show(self, reading: Reading, rate: Rate) -> None:
        """Redraw the bar; print a line when the state changes."""
        if self.task is None:
            self.progress.start()
            name = f"{reading.kind} {reading.id}"
            self.task = self.progress.add_task(name, total=None, counts="", rate="", eta="")
        if reading.state != self.state:
            self.state = reading.state
            self.progress.console.print(f"{reading.kind} {reading.id}: {reading.sentence}")
        per_second = rate.per_second()
        self.progress.update(
            self.task,
            completed=reading.done,
            total=reading.total or None,
            counts=f"{reading.good} good / {reading.failed} failed / {reading.total} total",
            rate=f"{per_second:.1f}/s" if per_second is not None else "–/s",
            eta=seconds(rate.eta(reading.total - reading.done)),
        )
        self.progress.refresh()

    def close(self) -> None:
        """Leave the last drawing on the screen."""
        if self.task is not None:
            self.progress.stop()


class Lines:
    """Plain lines (not a terminal, or --json): one per change."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.last: tuple[Any, ...] | None = None

    def show(self, reading: Reading, rate: Rate) -> None:
        """Print a line when something changed."""
        if reading.key() == self.last:
            return
        self.last = reading.key()
        if self.as_json:
            click.echo(json.dumps(as_record(reading, rate)))
        else:
            counts = f"{reading.good} good / {reading.failed} failed / {reading.total} total"
            click.echo(f"{reading.kind} {reading.id}: {counts} — {reading.sentence}")

    def close(self) -> None:
        """Nothing to tidy up."""


def should_poll(choice: bool | None) -> bool:
    """Run a poller here? Not with the embedded sandbox (it lives in the web process)."""
    if not settings().api_url:
        if choice:
            raise click.UsageError(
                "--poll needs WESOG_API_URL (the sandbox is in the web process)."
            )
        return False
    if choice is None:
        return settings().poller != "off"
    return choice


@contextmanager
def background_poller(enabled: bool) -> Iterator[None]:
    """A poller thread in this process (stands by while another poller holds the lease)."""
    if not enabled:
        yield
        return
    poller = Poller(current_app._get_current_object())  # type: ignore[attr-defined]
    stop = threading.Event()
    thread = threading.Thread(target=poller.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        poller.wake_event.set()
        thread.join(10)


def follow(
    read: Callable[[], Reading | None], view: Bar | Lines, interval: float, timeout: float | None
) -> int:
    """Read and show until the thing ends; its exit code (or timeout/not found)."""
    rate, deadline = Rate(), None if timeout is None else time.monotonic() + timeout
    while True:
        reading = read()
        if reading is None:
            return EXIT_NOT_FOUND
        rate.add(reading.done)
        view.show(reading, rate)
        if reading.final and reading.exit_code is not None:
            return reading.exit_code
        if deadline is not None and time.monotonic() > deadline:
            return EXIT_TIMEOUT
        time.sleep(interval)


def watch(
    deletion_id: int | None,
    op_id: int | None,
    *,
    as_json: bool = False,
    poll: bool | None = None,
    interval: float | None = None,
    timeout: float | None = None,
) -> int:
    """Watch one deletion request (or operation) to its end; returns the exit code."""
    if (deletion_id is None) == (op_id is None):
        raise click.UsageError("Give a DELETION_ID or --op OP_ID (one of them).")
    interval = interval or min(1.0, settings().poll_interval)
    if deletion_id is not None:
        read, what = (lambda: read_deletion(deletion_id)), f"deletion request {deletion_id}"
    else:
        read, what = (lambda: read_operation(op_id)), f"operation {op_id}"  # type: ignore[arg-type]
    terminal = sys.stdout.isatty() and not as_json
    view: Bar | Lines = Bar(Console()) if terminal else Lines(as_json)
    try:
        with background_poller(should_poll(poll)):
            code = follow(read, view, interval, timeout)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        view.close()
    if code == EXIT_NOT_FOUND:
        click.echo(f"No {what} is known here.", err=True)
    elif code == EXIT_TIMEOUT:
        click.echo(f"Gave up after {timeout:g} s; {what} has not ended.", err=True)
    return code


@click.command("watch")
@with_appcontext
@click.argument("deletion_id", type=click.IntRange(1), required=False)
@click.option("--op", "op_id", type=int, help="Watch one operation instead.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, per change.")
@click.option(
    "--poll/--no-poll",
    default=None,
    help="Run a poller in this process (default: yes with WESOG_API_URL, unless WESOG_POLLER=off).",
)
@click.option("--interval", type=click.FloatRange(0.05, 60), help="Seconds between readings.")
@click.option("--timeout", type=click.FloatRange(0), help="Give up (exit 3) after this long.")
def watch_command(
    deletion_id: int | None,
    op_id: int | None,
    as_json: bool,
    poll: bool | None,
    interval: float | None,
    timeout: float | None,
) -> None:
    """Watch a deletion request (or --op an operation) live until it ends.

    Exit 0 all deleted, 1 some failed, 2 usage error, 3 --timeout, 4 unknown id, 5 rejected.
    """
    code = watch(deletion_id, op_id, as_json=as_json, poll=poll, interval=interval, timeout=timeout)
    sys.exit(code)
