"""Which row is an upstream operation, and whose it is: incarnations and owners.

- An op id is unique upstream only while the API remembers it: a restarted API may count from
  1 again. A snapshot whose `created_at` differs from the stored row's is another operation:
  the stored row is *retired* to a negative key (never an upstream id) with its items, samples
  and owner, and `upstream_op_id` keeps the number it had. Nothing is merged.
- Operations never change owner: `claim` ties a row to a deletion with one conditional UPDATE
  (`… WHERE deletion_id IS NULL`), so two reconciles can never both take the same operation;
  the database decides, and the loser simply sees it was not given the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, wesog
from ..extensions import db
from ..models import DeletionItem, Operation, OperationSample, utcnow

SAME_MOMENT = timedelta(milliseconds=1)  # created_at is given to the millisecond
LOAD_CHUNK = 500  # op ids per statement of `ensure_rows`
REUSED = "the Wesog API reused this operation's id for another operation (lost upstream)"


def same_incarnation(created_a: datetime | None, created_b: datetime | None) -> bool:
    """True unless both creation times are known and differ: then they are two operations."""
    if created_a is None or created_b is None:
        return True
    return abs(created_a - created_b) < SAME_MOMENT


def _new_row(op_id: int, origin: str, now: datetime) -> dict[str, object]:
    """The columns of a row for an operation seen for the first time (before its snapshot)."""
    return dict(
        op_id=op_id,
        origin=origin,
        state="unknown",
        first_seen_at=now,
        poll_failures=0,
        outcomes_applied=False,
        errors=[],
        num_total=0,
        num_good=0,
        num_bad=0,
        is_started=False,
        is_finished=False,
        do_wait=False,
        do_urgent=False,
        do_strict=False,
        idle_ms=0.0,
        exec_ms=0.0,
    )


def _insert_missing(rows: list[dict[str, object]]) -> None:
    """Insert these rows, skipping any a concurrent writer inserted first (no error)."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    db.session.execute(module.insert(Operation).on_conflict_do_nothing(), rows)


def ensure_row(op_id: int, origin: str, now: datetime) -> Operation:
    """The row keyed `op_id`, inserted when missing; a concurrent insert is no error."""
    _insert_missing([_new_row(op_id, origin, now)])
    row = db.session.get(Operation, op_id)
    assert row is not None
    return row


def ensure_rows(op_ids: list[int], origin: str, now: datetime) -> None:
    """Rows for many operations seen for the first time, inserted and loaded in a few
    statements (a discovery of 10,000 made two statements each, one by one)."""
    for start in range(0, len(op_ids), LOAD_CHUNK):
        chunk = op_ids[start : start + LOAD_CHUNK]
        _insert_missing([_new_row(op_id, origin, now) for op_id in chunk])
        # Loaded into the session, so that each snapshot's `current_row` finds its row there.
        db.session.scalars(select(Operation).where(Operation.op_id.in_(chunk))).all()


def claim(row: Operation, deletion_id: int) -> bool:
    """Make `deletion_id` the owner of a row that has none; True when it is (now) the owner."""
    if row.deletion_id == deletion_id:
        return True
    result = db.session.execute(
        update(Operation)
        .where(Operation.op_id == row.op_id, Operation.deletion_id.is_(None))
        .values(deletion_id=deletion_id, outcomes_applied=False)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row, ["deletion_id", "outcomes_applied"])
    return bool(getattr(result, "rowcount", 0) == 1) or row.deletion_id == deletion_id


def retire(row: Operation) -> int:
    """Move `row` (another incarnation of its op id) to a fresh negative key; returns the key.

    Its items and samples follow it, its owner stays; an unfinished one is lost upstream.
    """
    old = row.op_id
    if not row.is_finished:
        row.state, row.next_poll_at, row.last_poll_error = "lost", None, REUSED
        audit.record(
            "operation.lost",
            actor="system",
            op_id=old,
            outcome="lost",
            deletion_id=row.deletion_id,
            details={"message": REUSED},
        )
    db.session.flush()  # our write comes first: the key below is read under the write lock
    lowest = db.session.scalar(select(func.min(Operation.op_id))) or 0
    key = min(lowest, 0) - 1
    table = Operation.__table__
    columns = [c.name for c in table.columns]
    copied = [
        literal(key).label("op_id")
        if name == "op_id"
        else literal(old).label(name)
        if name == "upstream_op_id"
        else table.c[name]
        for name in columns
    ]
    db.session.execute(
        insert(table).from_select(columns, select(*copied).where(table.c.op_id == old))
    )
    for model in (DeletionItem, OperationSample):
        db.session.execute(
            update(model)
            .where(model.op_id == old)
            .values(op_id=key)
            .execution_options(synchronize_session=False)
        )
    db.session.expunge(row)
    db.session.execute(table.delete().where(table.c.op_id == old))
    db.session.expire_all()
    return key


def current_row(op: wesog.OperationSnapshot, origin: str) -> Operation:
    """The row of this snapshot's operation: found, or (after retiring an older one) new."""
    assert op.op_id is not None
    row = db.session.get(Operation, op.op_id)
    if row is not None and not same_incarnation(row.created_at, op.created_at):
        retire(row)
        row = None
    return row if row is not None else ensure_row(op.op_id, origin, utcnow())
