"""Fan-in: N people watching one operation must cost the Wesog API no more than one person.

One long-running delete operation is watched first by 1 viewer, then by 50 concurrent viewers,
each polling the progress fragment as htmx does (every WESOG_POLL_INTERVAL seconds), for the
same duration. The sandbox counts the upstream `GET /ops/{op_id}` calls in each window.
Target: the two counts within 10 % of each other, and close to duration ÷ interval.

    .venv/bin/python bench/fanin.py [--seconds 10] [--viewers 50]
"""

from __future__ import annotations

import argparse
import threading
import time

from _support import (
    create_app,
    logged_in_session,
    migrated_database,
    start_sandbox,
    wait_until,
)
from werkzeug.serving import make_server

INTERVAL = 1.0


def watch(base_url: str, op_id: int, seconds: float, sessions: list, errors: list) -> int:
    """Every session polls the progress fragment each INTERVAL for `seconds`; returns polls."""
    stop_at = time.monotonic() + seconds
    counts = [0] * len(sessions)

    def viewer(index: int) -> None:
        session = sessions[index]
        next_at = time.monotonic() + (index % 10) * INTERVAL / 10  # spread like real tabs
        while next_at < stop_at:
            time.sleep(max(0.0, next_at - time.monotonic()))
            response = session.get(
                f"{base_url}/ops/{op_id}/progress", headers={"HX-Request": "true"}, timeout=10
            )
            if response.status_code != 200:
                errors.append(response.status_code)
            counts[index] += 1
            next_at += INTERVAL

    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def main() -> None:
    """Run both windows and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--viewers", type=int, default=50)
    args = parser.parse_args()

    # One operation (a deletion of at most 1,000 ids is one chunk), slow enough to outlast
    # both windows: any other operation would add its own polls to the count.
    items = 900
    item_ms = int((2 * args.seconds + 20) * 1000 / items) + 1
    sandbox = start_sandbox(images=items + 10, item_ms=item_ms, start_ms=0)
    uri = migrated_database({"watcher": "viewer"})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
            "WESOG_POLLER": "thread",
            "WESOG_POLL_INTERVAL": INTERVAL,
            "SECRET_KEY": "bench",
            "WESOG_LOGIN_THROTTLE": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"

    from wesog_dash import deletions

    ids = [str(100001 + n) for n in range(items)]
    with app.app_context():
        request = deletions.request_deletion(
            ids, deletions.DeletionOptions("fan-in benchmark"), deletions.Requester("cli:bench")
        )
        deletion_id = request.id
    sessions = [logged_in_session(base_url, "watcher") for _ in range(args.viewers)]

    def running_op() -> int | None:
        with app.app_context():
            found = deletions.get_deletion(deletion_id)
            ops = [op for op in found.operations if op.is_started and not op.is_finished]
            return ops[0].op_id if ops else None

    op_id = wait_until(running_op, timeout=30)
    print(f"operation #{op_id}: {items} items at {item_ms} ms each; poll interval {INTERVAL} s")
    expected = args.seconds / INTERVAL
    results = {}
    for viewers in (1, args.viewers):
        errors: list = []
        sandbox.state.reset_stats()
        polls = watch(base_url, op_id, args.seconds, sessions[:viewers], errors)
        upstream = sandbox.state.stats["GET /ops/{op_id}"]
        results[viewers] = upstream
        print(
            f"{viewers:3d} viewer(s) for {args.seconds:.0f} s: {polls:5d} fragment polls, "
            f"{upstream:3d} upstream GET /ops/{{op_id}} (expected ≈ {expected:.0f}), "
            f"errors: {len(errors)}"
        )
    one, many = results[1], results[args.viewers]
    ratio = many / one if one else float("inf")
    verdict = "OK" if one and abs(ratio - 1) <= 0.10 else "MISSED"
    print(f"ratio {args.viewers} viewers / 1 viewer = {ratio:.2f} (target 0.90–1.10): {verdict}")
    server.shutdown()
    sandbox.stop()


if __name__ == "__main__":
    main()
