"""The deletion life cycle under hypothesis, long: the state machine of
tests/deletions/machine.py (request, undo, pause, resume, cancel, retry, restore, dispatcher and
poller steps) against the sandbox, with its invariants checked after every step. Prints the
steps taken, the invariants checked and what the actions answered; any broken invariant fails.

    .venv/bin/python bench/lifecycle.py [--examples 200] [--steps 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

from _support import create_app, migrated_database, start_sandbox
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.deletions.machine import Tally, machine_for
from wesog_dash.poller import Poller


def main() -> None:
    """Run the machine long and print what it did."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sandbox = start_sandbox(images=100_000, item_ms=0, start_ms=0, fail_rate=0.2, seed=args.seed)
    uri = migrated_database({})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
            "WESOG_POLL_INTERVAL": 0.05,
            "WESOG_QUEUED_POLL_INTERVAL": 0.05,
            "WESOG_POLL_MAX_BACKOFF": 1.0,
            "WESOG_RECONCILE_GRACE": 0.0,
            "WESOG_CHUNK_SIZE": 4,
            "WESOG_MAX_INFLIGHT_OPS": 2,
        }
    )
    poller, tally = Poller(app), Tally()
    chosen = settings(
        max_examples=args.examples,
        stateful_step_count=args.steps,
        deadline=None,
        derandomize=False,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    started = time.perf_counter()
    try:
        run_state_machine_as_test(machine_for(app, sandbox, poller, tally), settings=chosen)
    finally:
        seconds = time.perf_counter() - started
        poller.close()
        app.extensions["wesog_upstream"].close()
        sandbox.stop()
        print(
            f"{tally.steps} steps, {tally.checks} invariant checks in {seconds:.0f} s "
            f"({tally.next_id - 100001} images asked for)"
        )
        for answer, count in sorted(tally.answers.items()):
            print(f"  {answer}: {count}")


if __name__ == "__main__":
    main()
