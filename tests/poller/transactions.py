"""A watch on every upstream call: did the calling thread hold a database transaction open?

Each pooled connection is tracked from checkout to checkin with the thread that took it; at
each HTTP call (`WesogClient._send`) the calling thread's connections are asked whether they
are inside a transaction (psycopg's transaction status; sqlite3's `in_transaction`).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from wesog_dash.wesog import WesogClient


def in_transaction(dbapi_connection: Any) -> bool:
    """Is this DB-API connection inside a transaction now?"""
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg 3: IDLE (0) means no transaction is open
        return int(status) != 0
    return bool(getattr(dbapi_connection, "in_transaction", False))


class TransactionWatch:
    """Records upstream calls made while their thread held a transaction open."""

    def __init__(self) -> None:
        self.held: dict[int, tuple[int, Any]] = {}  # id(connection) -> (thread, connection)
        self.calls = 0
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def attach(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        """Watch `engine`'s pool and every HTTP call of the Wesog client."""
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)
        send = WesogClient._send
        watch = self

        def watched(client: WesogClient, method: str, path: str, **kw: Any) -> Any:
            watch.check(f"{method} {path.split('?')[0]}")
            return send(client, method, path, **kw)

        monkeypatch.setattr(WesogClient, "_send", watched)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with self._lock:
            self.held[id(dbapi_connection)] = (threading.get_ident(), dbapi_connection)

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        with self._lock:
            self.held.pop(id(dbapi_connection), None)

    def check(self, call: str) -> None:
        """Note `call` as a violation when this thread holds a connection in a transaction."""
        me = threading.get_ident()
        with self._lock:
            self.calls += 1
            mine = [c for thread, c in self.held.values() if thread == me]
        if any(in_transaction(connection) for connection in mine):
            where = "".join(traceback.format_stack(limit=12)[:-2])
            self.violations.append(f"{call} inside a transaction, from:\n{where}")
