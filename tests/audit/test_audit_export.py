"""/audit/export.csv and .jsonl: same filters as the page, streamed, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.audit.helpers import add_events, event_ids
from tests.conftest import AuthActions
from wesog_dash.audit import export as audit_export
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def csv_rows(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    """The CSV export, parsed."""
    response = client.get("/audit/export.csv" + query)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def jsonl_rows(client: FlaskClient, query: str = "") -> list[dict[str, object]]:
    """The JSON Lines export, parsed."""
    text = client.get("/audit/export.jsonl" + query).get_data(as_text=True)
    return [json.loads(line) for line in text.splitlines()]


def test_csv_has_a_header_every_column_and_every_event_in_chain_order(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    add_events(
        app, 3, image_id="100003", op_id=9, deletion_id=4, outcome="done", details={"count": 1}
    )
    response = client.get("/audit/export.csv")
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="wesog-audit-\d{8}-\d{4}\.csv"', disposition)
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(audit_export.COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in rows] == event_ids(app)
    last = rows[-1]
    assert last["image_id"] == "100003" and last["op_id"] == "9" and last["deletion_id"] == "4"
    assert json.loads(last["details"]) == {"count": 1}
    assert last["at"].endswith("+00:00") and len(last["hash"]) == 64
    assert last["prev_hash"] == rows[-2]["hash"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_cells_a_spreadsheet_would_run(
    app: Flask, client: FlaskClient, viewer: None, start: str
) -> None:
    add_events(app, 1, reason=f'{start}HYPERLINK("http://evil.example","x")', actor=f"{start}1+2")
    [row] = csv_rows(client, "?action=login.succeeded&q=HYPERLINK")
    assert row["reason"] == f'\'{start}HYPERLINK("http://evil.example","x")'
    assert row["actor"] == f"'{start}1+2"


def test_hyperlink_formula_becomes_text(app: Flask, client: FlaskClient, viewer: None) -> None:
    add_events(app, 1, reason='=HYPERLINK("http://evil.example")')
    [row] = csv_rows(client, "?q=HYPERLINK")
    assert row["reason"].startswith("'=HYPERLINK(")


def test_the_exports_match_the_page_filters(app: Flask, client: FlaskClient, viewer: None) -> None:
    alice = add_events(app, 4, actor="alice", action="operation.tracked", op_id=5)
    add_events(app, 3, actor="bob", action="operation.tracked", op_id=5)
    add_events(app, 2, actor="alice", action="operation.ended", op_id=6)
    query = "?actor=alice&action=operation.tracked"
    assert [int(r["id"]) for r in csv_rows(client, query)] == alice
    assert [r["id"] for r in jsonl_rows(client, query)] == alice
    page = client.get("/audit" + query).get_data(as_text=True)
    shown = sorted(int(n) for n in re.findall(r'<tr id="event-(\d+)">', page))
    assert shown == alice


def test_jsonl_holds_the_same_fields_as_objects(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    add_events(app, 1, details={"ids": ["a", "b"]}, reason="=1+1")
    rows = jsonl_rows(client)
    assert list(rows[-1]) == list(audit_export.COLUMNS)
    assert rows[-1]["details"] == {"ids": ["a", "b"]} and rows[-1]["reason"] == "=1+1"
    response = client.get("/audit/export.jsonl")
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["Content-Disposition"].endswith('.jsonl"')


def test_exports_span_several_batches_without_loss(
    app: Flask, client: FlaskClient, viewer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_export, "BATCH", 7)
    add_events(app, 30)
    everything = event_ids(app)
    assert [int(r["id"]) for r in csv_rows(client)] == everything
    assert [r["id"] for r in jsonl_rows(client)] == everything


def test_exports_are_streamed(app: Flask, client: FlaskClient, viewer: None) -> None:
    response = client.get("/audit/export.csv", buffered=False)
    assert response.is_streamed
    response.close()


def test_no_secret_reaches_an_export(
    app: Flask, client: FlaskClient, auth: AuthActions, viewer: None
) -> None:
    text = client.get("/audit/export.jsonl").get_data(as_text=True)
    assert app.config["WESOG_API_KEY"] not in text
    assert "argon2" not in text and app.config["SECRET_KEY"] not in text
    assert {c.name for c in AuditEvent.__table__.c} == set(audit_export.COLUMNS)
