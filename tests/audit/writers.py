"""A process that appends audit events from several threads at once (for the concurrency test)."""

from __future__ import annotations

import sys
import threading

from wesog_dash import audit, create_app
from wesog_dash.extensions import db


def write(url: str, label: str, threads: int, per_thread: int) -> int:
    """Append `threads` × `per_thread` events, one transaction each; returns how many."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "w",
            "WESOG_API_URL": "http://127.0.0.1:9",  # never called: no sandbox is started
            "WESOG_POLLER": "off",
        }
    )
    start = threading.Barrier(threads)
    written = [0] * threads

    def run(index: int) -> None:
        start.wait()  # every thread (and, roughly, both processes) starts at once
        for n in range(per_thread):
            with app.app_context():
                audit.record("login.succeeded", actor=f"{label}-{index}", reason=f"event {n}")
                db.session.commit()
                written[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with app.app_context():
        db.engine.dispose()
    return sum(written)


if __name__ == "__main__":
    url, label, threads, per_thread = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:5])
    print(write(url, label, threads, per_thread))
