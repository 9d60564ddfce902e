"""The long fuzz run: ≥ 10,000 strange inputs over every route; prints statuses by count.

    .venv/bin/python bench/fuzz.py [--examples 10000]

The same inputs as `tests/fuzz/` (bounded there), against a migrated SQLite database and a
sandbox, as an admin with CSRF off, with TESTING off: a crash is a 500 answer plus a logged
traceback, and both are counted. Targets: 0 answers ≥ 500, 0 tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter

from _support import ROOT, migrated_database, start_sandbox  # noqa: F401  (ROOT: sys.path)
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from tests.fuzz.inputs import calls, fuzzable_rules, send
from wesog_dash import accounts, create_app
from wesog_dash.accounts import tokens


class TracebackCounter(logging.Handler):
    """Counts log records that carry an exception (Flask logs one per crash)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count a record with exc_info."""
        self.count += bool(record.exc_info)


def main() -> None:
    """Run the inputs and print what came back."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    sandbox = start_sandbox(images=200, item_ms=0, start_ms=0)
    uri = migrated_database({"fuzz-admin": "admin"})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "fuzz",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
            "WTF_CSRF_ENABLED": False,
            "WESOG_LOGIN_THROTTLE": False,
            "WESOG_SYNC_SEND_TIMEOUT": 1.0,
        }
    )
    counter = TracebackCounter()
    app.logger.addHandler(counter)
    logging.getLogger("wesog_dash").addHandler(counter)
    client = app.test_client()
    client.post("/login", data={"username": "fuzz-admin", "password": "bench password 123"})
    with app.app_context():
        token = tokens.issue_token(accounts.find_user("fuzz-admin"), actor="cli:bench")
    rules, statuses = fuzzable_rules(app), Counter()
    started = time.monotonic()

    @hypothesis_seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(calls(app, rules))
    def run(call: object) -> None:
        response = send(client, call, token)  # type: ignore[arg-type]
        response.get_data()
        statuses[response.status_code] += 1

    run()
    seconds = time.monotonic() - started
    total = sum(statuses.values())
    print(f"{total} inputs over {len(rules)} (route, method) pairs in {seconds:.0f} s")
    for status, count in sorted(statuses.items()):
        print(f"  HTTP {status}: {count}")
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print(
        f"answers >= 500: {server_errors} (target 0); tracebacks logged: {counter.count} (target 0)"
    )
    sandbox.stop()


if __name__ == "__main__":
    main()
