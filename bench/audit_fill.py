"""Fills the audit benchmark's database: a million plausible, properly chained events.

Events come in stories: a deletion is requested, submitted a moment later and ends later
still (by `system`), logins succeed and sometimes fail, operations are tracked and end. A few
people do most of the work (Zipf-like weights). Times grow monotonically over SPAN and end
before today, as `audit.record` would have stamped them. Hashes use the app's own
`canonical_json`, so `audit verify` accepts the result.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wesog_dash import create_app  # noqa: E402
from wesog_dash.audit.hashing import GENESIS_HASH, canonical_json  # noqa: E402

SPAN = timedelta(days=700)
# The events end before today: `record` never dates an event before the one preceding it.
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - SPAN
USERS = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "zoe",
]
USER_WEIGHTS = [1 / (rank + 1) for rank in range(len(USERS))]  # a few people do most of it
REASONS = [
    "DMCA takedown notice",
    "duplicate upload",
    "customer asked for removal",
    "GDPR erasure request",
    "spam",
    "low quality",
    "wrong metadata, re-ingest",
    "legal hold released",
    "copyright claim",
    "test image",
    "offensive content",
    "expired licence",
    "=SUM(A1:A2) pasted by mistake",
    "bulk cleanup of old catalogue",
]
IMAGES = 300_000
COLUMNS = (
    "id, at, actor, remote_addr, action, image_id, op_id, deletion_id, outcome, reason, "
    "details, prev_hash, hash"
)


class Event:
    """A plain event for canonical_json (the same function the app hashes with)."""

    __slots__ = (
        "action",
        "actor",
        "at",
        "deletion_id",
        "details",
        "hash",
        "id",
        "image_id",
        "op_id",
        "outcome",
        "prev_hash",
        "reason",
        "remote_addr",
    )

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def as_row(self) -> tuple[Any, ...]:
        """The values for INSERT, in COLUMNS order, as SQLAlchemy would store them."""
        return (
            self.id,
            sql_time(self.at),
            self.actor,
            self.remote_addr,
            self.action,
            self.image_id,
            self.op_id,
            self.deletion_id,
            self.outcome,
            self.reason,
            json.dumps(self.details),
            self.prev_hash,
            self.hash,
        )


def event(action: str, actor: str, **fields: Any) -> dict[str, Any]:
    """The fields of one event."""
    return {"action": action, "actor": actor, **fields}


class Story:
    """Generates the events in a plausible order: deletions are requested, sent, then end."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.later: list[tuple[int, int, dict[str, Any]]] = []  # (due index, seq, event)
        self.seq = 0
        self.deletion_id = 0
        self.op_id = 9_000_000
        self.deletions: list[tuple[Any, ...]] = []
        self.items: list[tuple[Any, ...]] = []

    def user(self) -> str:
        return self.rng.choices(USERS, USER_WEIGHTS)[0]

    def addr(self) -> str:
        return f"10.0.{self.rng.randrange(8)}.{self.rng.randrange(1, 250)}"

    def new_op(self) -> int:
        self.op_id += 1
        return self.op_id

    def schedule(self, due: int, fields: dict[str, Any]) -> None:
        self.seq += 1
        heapq.heappush(self.later, (due, self.seq, fields))

    def next_event(self, index: int, at: datetime) -> dict[str, Any]:
        """The event at position `index`: one that is due, or the start of a new story."""
        if self.later and self.later[0][0] <= index:
            return heapq.heappop(self.later)[2]
        roll = self.rng.random()
        if roll < 0.40:
            return self.deletion(index, at)
        if roll < 0.65:
            return event("login.succeeded", self.user(), remote_addr=self.addr())
        if roll < 0.70:
            details = {"username": self.user()}
            return event("login.failed", "anonymous", remote_addr=self.addr(), details=details)
        if roll < 0.85:
            return self.operation(index)
        if roll < 0.99:
            return event("operation.ended", "system", op_id=self.new_op(), outcome="finished")
        return event("audit.verified", "cli:ops", outcome="intact", details={"events": index})

    def operation(self, index: int) -> dict[str, Any]:
        """An operation tracked now that ends a little later."""
        op_id = self.new_op()
        ended = event(
            "operation.ended",
            "system",
            op_id=op_id,
            outcome="finished",
            details={"method": "upd", "num_total": 20, "num_good": 20},
        )
        self.schedule(index + self.rng.randrange(2, 60), ended)
        return event("operation.tracked", self.user(), op_id=op_id, remote_addr=self.addr())

    def deletion(self, index: int, at: datetime) -> dict[str, Any]:
        """A deletion request now; its submission and its end a little later."""
        self.deletion_id += 1
        did, actor, reason = self.deletion_id, self.user(), self.rng.choice(REASONS)
        size = 1 if self.rng.random() < 0.85 else self.rng.randrange(2, 50)
        ids = [f"img-{self.rng.randrange(IMAGES):07d}" for _ in range(size)]
        op_id, failed = self.new_op(), self.rng.random() < 0.05
        state, outcome = ("done_with_errors", "failed") if failed else ("done", "deleted")
        self.deletions.append((did, at, actor, reason, size, state))
        self.items.extend((did, n, image, outcome) for n, image in enumerate(ids))
        about = {"deletion_id": did, "image_id": ids[0] if size == 1 else None}
        submitted = event("deletion.submitted", actor, op_id=op_id, **about)
        ended = event(
            "deletion.ended",
            "system",
            op_id=op_id,
            outcome=state,
            **about,
            details={"total": size, outcome: size},
        )
        self.schedule(index + self.rng.randrange(1, 4), submitted)
        self.schedule(index + self.rng.randrange(5, 300), ended)
        return event(
            "deletion.requested",
            actor,
            reason=reason,
            remote_addr=self.addr(),
            details={"count": size},
            **about,
        )


def sql_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(url: str, count: int, result: Any) -> None:
    """Child process: migrate the empty database at `url`, then bulk-load `count` events."""
    from flask_migrate import upgrade

    from wesog_dash.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": "http://127.0.0.1:9",
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    started = time.perf_counter()
    story = Story(random.Random(7))
    load = fill_postgresql if url.startswith("postgresql") else fill_sqlite
    load(url, count, story)
    result.put((time.perf_counter() - started, story.deletion_id, len(story.items)))


def fill_sqlite(url: str, count: int, story: Story) -> None:
    """Bulk-insert through sqlite3 itself, unsynchronised (a throw-away file)."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("PRAGMA synchronous=OFF")  # a throw-away file: no need to survive a crash
    insert = f"INSERT INTO audit_events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    last_id, last_hash, last_at = insert_events(
        lambda rows: connection.executemany(insert, rows), count, story
    )
    connection.execute(
        "INSERT INTO audit_head (id, event_id, hash, at) VALUES (1, ?, ?, ?)",
        (last_id, last_hash, sql_time(last_at)),
    )
    fill_deletions(connection, story)
    connection.commit()
    connection.close()


def fill_postgresql(url: str, count: int, story: Story) -> None:
    """Bulk-load through psycopg's COPY, then move the id sequences on and ANALYZE."""
    import psycopg
    from sqlalchemy import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        with cursor.copy(f"COPY audit_events ({COLUMNS}) FROM STDIN") as copy:
            # SQLite's naive UTC text, with its zone for timestamptz.
            last_id, last_hash, last_at = insert_events(
                lambda rows: [copy.write_row((r[0], r[1] + "+00", *r[2:])) for r in rows],
                count,
                story,
            )
        cursor.execute(
            "INSERT INTO audit_head (id, event_id, hash, at) VALUES (1, %s, %s, %s)",
            (last_id, last_hash, last_at),
        )
        fill_deletions_postgresql(cursor, story)
        for table in ("audit_events", "deletion_requests", "deletion_items"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("ANALYZE")  # what autovacuum would have done by the time of use


def insert_events(write: Any, count: int, story: Story) -> tuple[int, str, datetime]:
    """Chain the events and `write` them in batches; returns the last id, hash and time."""
    rng = random.Random(20261128)
    step_us = SPAN / timedelta(microseconds=1) / count
    moment, prev, batch = START, GENESIS_HASH, []
    for index in range(1, count + 1):
        moment += timedelta(microseconds=int(rng.expovariate(1 / step_us)) + 1)
        fields = story.next_event(index, moment)
        record = Event(id=index, at=moment, prev_hash=prev, **fields)
        record.details = record.details or {}
        prev = record.hash = hashlib.sha256(canonical_json(record).encode()).hexdigest()
        batch.append(record.as_row())
        if len(batch) == 50_000 or index == count:
            write(batch)
            batch.clear()
    return count, prev, moment


def fill_deletions(connection: sqlite3.Connection, story: Story) -> None:
    """The deletion requests and items the events refer to (op ids left unlinked)."""
    connection.executemany(
        "INSERT INTO deletion_requests (id, created_at, actor, reason, do_wait, do_urgent, "
        "do_strict, selection_kind, item_count, ids_sha256, state, attempts) "
        "VALUES (?, ?, ?, ?, 0, 0, 0, 'list', ?, '', ?, 1)",
        [
            (d, sql_time(at), actor, reason, size, state)
            for d, at, actor, reason, size, state in story.deletions
        ],
    )
    connection.executemany(
        "INSERT INTO deletion_items (deletion_id, position, image_id, outcome) VALUES (?,?,?,?)",
        story.items,
    )


def fill_deletions_postgresql(cursor: Any, story: Story) -> None:
    """`fill_deletions`, by COPY."""
    columns = (
        "id, created_at, actor, reason, do_wait, do_urgent, do_strict, selection_kind, "
        "item_count, ids_sha256, state, attempts"
    )
    with cursor.copy(f"COPY deletion_requests ({columns}) FROM STDIN") as copy:
        for d, at, actor, reason, size, state in story.deletions:
            copy.write_row((d, at, actor, reason, False, False, False, "list", size, "", state, 1))
    columns = "deletion_id, position, image_id, outcome"
    with cursor.copy(f"COPY deletion_items ({columns}) FROM STDIN") as copy:
        for row in story.items:
            copy.write_row(row)
