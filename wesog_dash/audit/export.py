"""Audit exports: every matching event as CSV or JSON Lines, streamed in keyset batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from ..extensions import db
from ..models import AuditEvent, utcnow
from .hashing import FIELDS as HASHED_FIELDS
from .hashing import stored, stored_iso
from .queries import AuditFilters

BATCH = 2000
# Every hashed field, then the hash itself: an export holds what verification needs.
COLUMNS = (*HASHED_FIELDS, "hash")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str | None) -> str:
    """Prefix a quote to a cell a spreadsheet would read as a formula (None: empty)."""
    if cell is None:
        return ""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _selected() -> list[Any]:
    """The exported columns; `at` and `details` as stored text, skipping their decoding."""
    table = AuditEvent.__table__
    return [
        stored(table.c[name]) if name in ("at", "details") else table.c[name] for name in COLUMNS
    ]


def batches(filters: AuditFilters, batch: int | None = None) -> Iterator[Sequence[Row[Any]]]:
    """Matching events in chain (id) order, one keyset batch in memory at a time."""
    batch = batch or BATCH
    columns, conditions = _selected(), filters.conditions()
    after = 0
    while True:
        found = (
            db.session.connection()
            .execute(
                select(*columns)
                .where(*conditions, AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
            .all()
        )
        if found:
            yield found
        if len(found) < batch:
            return
        after = found[-1].id


def _csv_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """One event as CSV cells: ISO time, every text cell neutralised, numbers as they are."""
    cells = (
        stored_iso(cell) if name == "at" else cell for name, cell in zip(COLUMNS, row, strict=True)
    )
    # A time or a hash never starts like a formula, so neutralising them too changes nothing.
    return tuple(neutralise(cell) if isinstance(cell, str) else cell for cell in cells)


def csv_chunks(filters: AuditFilters) -> Iterator[str]:
    """The CSV export: a header row, then one row per event, a keyset batch per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for found in batches(filters):
        writer.writerows(map(_csv_row, found))
        yield _drain(buffer)
    yield _drain(buffer)


def _json_line(row: Row[Any]) -> str:
    """One event as a JSON object: ISO time, details as an object."""
    values = dict(zip(COLUMNS, row, strict=True))
    values["at"] = stored_iso(row.at)
    values["details"] = json.loads(row.details) if row.details else {}
    return json.dumps(values, ensure_ascii=False)


def jsonl_chunks(filters: AuditFilters) -> Iterator[str]:
    """The JSON Lines export: one JSON object per event and line."""
    for found in batches(filters):
        yield "".join(_json_line(row) + "\n" for row in found)


def _drain(buffer: io.StringIO) -> str:
    """Take what the CSV writer wrote so far, and start over."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def filename(extension: str, now: datetime | None = None) -> str:
    """The download's name, dated: wesog-audit-20261128-0342.csv."""
    return f"wesog-audit-{(now or utcnow()):%Y%m%d-%H%M}.{extension}"
