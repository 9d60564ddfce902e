"""The console's own parts failing: its database away (PostgreSQL cut off mid-deletion), its
SQLite file full. Pages answer 503 with a sentence, nothing is half-written, and everything
resumes without a restart: 0 deletions lost, 0 chunks sent twice, 0 false outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from tests.conftest import AuthActions
from wesog_dash.extensions import db
from wesog_dash.models import DeletionItem, DeletionRequest

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

IDS = [f"img-{n:06d}-" + "x" * 60 for n in range(3000)]  # more than the free pages hold


def rows(app: Flask) -> tuple[int, int]:
    """(deletion requests, deletion items) in the database."""
    with app.app_context():
        requests = db.session.scalar(select(func.count()).select_from(DeletionRequest))
        items = db.session.scalar(select(func.count()).select_from(DeletionItem))
        return int(requests or 0), int(items or 0)


@pytest.mark.sqlite_only
def test_a_full_sqlite_file_is_a_clear_503_and_no_half_written_deletion(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    csrf = auth.login("operator")
    client.get("/ops")  # the session and its audit rows are written before the disk fills
    with app.app_context():
        engine = db.engine
        pages = db.session.execute(db.text("PRAGMA page_count")).scalar_one()

        def no_room(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        event.listen(engine, "connect", no_room)
        engine.dispose()  # new connections: each one gets the limit
    data = {"csrf_token": csrf, "image_ids": IDS, "reason": "takedown " + "x" * 1500}
    full = client.post("/deletions", data=data)
    assert full.status_code == 503 and full.headers["Retry-After"]
    html = full.get_data(as_text=True)
    assert "database is full" in html and "nothing was changed" in html
    assert "Traceback" not in html
    with app.app_context():
        event.remove(engine, "connect", no_room)
        engine.dispose()
    assert rows(app) == (0, 0)  # nothing half-written
    again = client.post("/deletions", data=data)  # room again: it works without a restart
    assert again.status_code in (200, 302, 303), again.get_data(as_text=True)[:300]
    assert rows(app) == (1, len(IDS))
