"""The deletion life cycle under hypothesis, long: the state machine of
tests/deletions/machine.py (request, undo, pause, resume, cancel, retry, restore, dispatcher and
poller steps) against the sandbox, with its invariants checked after every step. Prints the
steps taken, the invariants checked and what the actions answered; any broken invariant fails.

    .venv/bin/python bench/lifecycle.py [--examples 200] [--steps 60] [--seed 7]
    .venv/bin/python bench/lifecycle.py --race 100

With --race N: instead, cancel, pause and undo fired at a chunk's send ±150 ms, N times each
through the web and the API (tests/deletions/race.py), and the race table: action × channel ×
answered, shots, and differences between answered, recorded and received.
"""

from __future__ import annotations

import argparse
import time

from _support import PASSWORD, create_app, migrated_database, start_sandbox
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
    parser.add_argument("--race", type=int, default=0, help="shots of each action and channel")
    args = parser.parse_args()
    if args.race:
        race(args.race, args.seed)
        return
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


def race(shots: int, seed: int) -> None:
    """The race table of `shots` shots of each action through each channel."""
    import json

    from tests.deletions.race import ACTIONS, CHANNELS, Race, table

    sandbox = start_sandbox(images=100_000, item_ms=0, start_ms=0, latency_ms=60, seed=seed)
    uri = migrated_database({"racer": "operator"})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
            "WESOG_POLL_INTERVAL": 0.05,
            "WESOG_QUEUED_POLL_INTERVAL": 0.05,
            "WESOG_CHUNK_SIZE": 4,
            "WESOG_MAX_INFLIGHT_OPS": 1,
            "WTF_CSRF_ENABLED": False,
        }
    )
    from wesog_dash import accounts
    from wesog_dash.accounts import tokens

    with app.app_context():
        user = accounts.find_user("racer")
        assert user is not None
        secret = tokens.issue_token(user, actor="cli:bench")
    web, api = app.test_client(), {"Authorization": f"Bearer {secret}"}
    web.post("/login", data={"username": "racer", "password": PASSWORD})

    def post(channel: str, path: str) -> tuple[bool, str]:
        if channel == "web":
            response = web.post(path, headers={"HX-Request": "true"})
            toast = json.loads(response.headers["HX-Trigger"])["toast"]
            return toast["level"] != "error", toast["message"]
        response = app.test_client().post(f"/api/v1{path}", headers=api)
        body = response.get_json()
        return response.status_code == 200, body.get("answer") or body.get("detail", "")

    poller = Poller(app)
    try:
        racer = Race(app, sandbox, poller, post, seed)
        fired = [racer.shot(a, c) for a in ACTIONS for c in CHANNELS for _ in range(shots)]
    finally:
        poller.close()
        app.extensions["wesog_upstream"].close()
        sandbox.stop()
    print(f"{'action':8} {'channel':8} {'answered':11} {'shots':>6} {'differences':>12}")
    for action, channel, answered, count, wrong in table(fired):
        print(f"{action:8} {channel:8} {answered:11} {count:6} {wrong:12}")


if __name__ == "__main__":
    main()
