"""gunicorn settings for wesog-dash in production (`make serve`, or `gunicorn -c gunicorn.conf.py
app:app`). Web workers never poll: the poller runs in its own process (`flask --app app wesog
poll`), one active across every host thanks to the lease, the others standing by."""

import os
import sys

bind = os.environ.get("WESOG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WESOG_THREADS", "8"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
accesslog = "-"
# The web processes leave polling to `flask wesog poll`; set before the app is built.
raw_env = [f"WESOG_POLLER={os.environ.get('WESOG_POLLER', 'external')}"]


def on_starting(server: object) -> None:
    """Say at start what would break with several processes or hosts."""
    problems = []
    if not os.environ.get("SECRET_KEY"):
        problems.append(
            "SECRET_KEY is not set: each host would sign sessions with the key in its own "
            "instance/ folder, so a login would not survive a request to another host"
        )
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        problems.append(
            "DATABASE_URL is not PostgreSQL: SQLite serves one host only (every worker shares "
            "its file, but another host cannot)"
        )
    if not os.environ.get("WESOG_API_URL"):
        problems.append(
            "WESOG_API_URL is not set: each worker would start its own embedded sandbox, with "
            "operations the others cannot see; run `flask --app app wesog sandbox` and point "
            "WESOG_API_URL at it for a shared one"
        )
    for problem in problems:
        print(f"wesog-dash warning: {problem}.", file=sys.stderr, flush=True)
