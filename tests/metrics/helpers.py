"""Building known operations through the real snapshot path (`record_snapshot`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wesog_dash.extensions import db
from wesog_dash.models import utcnow
from wesog_dash.operations import record_snapshot
from wesog_dash.wesog import OperationSnapshot


def snapshot(op_id: int, method: str = "del", **fields: Any) -> OperationSnapshot:
    """An upstream operation snapshot; `finished_ago` (seconds) sets finished_at."""
    finished_ago = fields.pop("finished_ago", None)
    data: dict[str, Any] = {
        "op_id": op_id,
        "method": method,
        "resource": "image",
        "num_total": 0,
        "num_good": 0,
        "num_bad": 0,
        "is_started": False,
        "is_finished": False,
        "idle_ms": 0,
        "exec_ms": 0,
    }
    data.update(fields)
    if finished_ago is not None:
        moment: datetime = utcnow() - timedelta(seconds=finished_ago)
        data["finished_at"] = moment.isoformat()
    return OperationSnapshot.from_json(data)


def store(*snapshots: OperationSnapshot, deletion_id: int | None = None) -> None:
    """Record snapshots as the poller does and commit."""
    for snap in snapshots:
        record_snapshot(snap, origin="tracked", deletion_id=deletion_id)
    db.session.commit()


def done(op_id: int, method: str, good: int, bad: int, idle: float, run: float, ago: int = 60):
    """A finished operation."""
    return snapshot(
        op_id,
        method,
        num_total=good + bad,
        num_good=good,
        num_bad=bad,
        is_started=True,
        is_finished=True,
        idle_ms=idle,
        exec_ms=run,
        finished_ago=ago,
    )
