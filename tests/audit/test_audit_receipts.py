"""Signed erasure receipts against the real sandbox: issued for a finished deletion (web, API,
one image from its history page), checked offline by `flask audit verify-receipt`, which
names what was edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST
from tests.views.test_api_v1 import bearer, token_for
from tests.views.test_deletions import settle
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionItem
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

IDS = ["100001", "100002", "100003"]


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, Any]:
    """Quick polling, and the signing key in this test's own folder."""
    return {**FAST, "WESOG_AUDIT_KEY_FILE": str(tmp_path / "keys" / "audit-signing.key")}


@pytest.fixture
def finished(app: Flask, poller: Poller) -> int:
    """A deletion of three images, sent and finished."""
    deletion_id = request(app, IDS, kind="list", ticket="DPO-7")
    assert settle(app, poller, deletion_id) == "done"
    return deletion_id


def download(client: FlaskClient, url: str, path: Path) -> dict[str, Any]:
    """GET a receipt, save it as a file, and return it parsed."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    path.write_bytes(response.get_data())
    return json.loads(path.read_text())


def verify(runner: Any, path: Path, *options: str) -> Any:
    """`flask audit verify-receipt PATH …`."""
    return runner.invoke(args=["audit", "verify-receipt", str(path), *options])


def test_a_receipt_of_a_finished_deletion_verifies_offline(
    app: Flask, client: FlaskClient, auth: AuthActions, runner: Any, finished: int, tmp_path: Path
) -> None:
    auth.login("viewer")
    path = tmp_path / "receipt.json"
    receipt = download(client, f"/deletions/{finished}/receipt.json", path)
    assert [i["image_id"] for i in receipt["items"]] == IDS
    assert {i["outcome"] for i in receipt["items"]} == {"deleted"}
    op_ids = {op["op_id"] for op in receipt["operations"]}
    assert all(i["evidence"]["kind"] == "operation" for i in receipt["items"])
    assert {i["evidence"]["op_id"] for i in receipt["items"]} <= op_ids
    assert all(op["finished_at"] and op["created_at"] for op in receipt["operations"])
    deletion = receipt["deletion"]
    assert deletion["requester"] == "alice" and deletion["ticket"] == "DPO-7"
    assert deletion["reason"] == "takedown notice"
    assert receipt["approval"] is None
    with app.app_context():
        recorded = db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.deletion_id == finished)
        ).all()
    assert set(recorded) <= {e["id"] for e in receipt["audit_events"]}
    assert "deletion.requested" in {e["action"] for e in receipt["audit_events"]}
    result = verify(runner, path)
    assert result.exit_code == 0, result.output
    assert f"receipt intact: deletion #{finished}, 3 images" in result.output


def test_one_edited_outcome_breaks_the_receipt_and_is_named(
    client: FlaskClient, auth: AuthActions, runner: Any, finished: int, tmp_path: Path
) -> None:
    auth.login("viewer")
    path = tmp_path / "receipt.json"
    receipt = download(client, f"/deletions/{finished}/receipt.json", path)
    receipt["items"][1]["outcome"] = "failed"
    path.write_text(json.dumps(receipt))
    result = verify(runner, path)
    assert result.exit_code == 1
    assert "changed: item 2 (image '100002'): outcome changed" in result.output
    assert "receipt broken" in result.output
    receipt["items"][1]["outcome"] = "deleted"
    receipt["deletion"]["reason"] = "something else"
    path.write_text(json.dumps(receipt))
    result = verify(runner, path)
    assert result.exit_code == 1
    assert "changed: deletion.reason changed" in result.output


def test_the_api_receipt_checks_with_the_public_key_alone(
    app: Flask, client: FlaskClient, runner: Any, finished: int, tmp_path: Path
) -> None:
    headers = bearer(token_for(app, "vera", "viewer"))
    response = client.get(f"/api/v1/deletions/{finished}/receipt", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    path = tmp_path / "api-receipt.json"
    path.write_bytes(response.get_data())
    keys = runner.invoke(args=["audit", "keys"])
    public = tmp_path / "public.pem"
    public.write_text(keys.stdout)
    assert verify(runner, path, "--public-key", str(public)).exit_code == 0
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = verify(runner, path, "--public-key", str(other))
    assert result.exit_code == 1
    assert "signed by key" in result.output


def test_no_receipt_before_the_deletion_finishes(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    waiting = request(app, ["100004"], undo_seconds=600)  # in its undo window: not sent
    headers = bearer(token_for(app, "vera", "viewer"))
    response = client.get(f"/api/v1/deletions/{waiting}/receipt", headers=headers)
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("/not-finished")
    assert client.get("/api/v1/deletions/99999/receipt", headers=headers).status_code == 404
    auth.login("viewer")
    assert client.get(f"/deletions/{waiting}/receipt.json").status_code == 409
    page = client.get(f"/deletions/{waiting}")
    assert "Erasure receipt" not in page.get_data(as_text=True)


def test_proof_for_one_image_from_its_history_page(
    app: Flask, client: FlaskClient, auth: AuthActions, runner: Any, finished: int, tmp_path: Path
) -> None:
    auth.login("viewer")
    history = client.get("/images/100002/history").get_data(as_text=True)
    assert "Proof that 100002 was deleted" in history
    link = f"/deletions/{finished}/receipt?image_id=100002"
    assert link in history
    page = client.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Erasure receipt for image" in text and "100002" in text and "100001" not in text
    path = tmp_path / "proof.json"
    receipt = download(client, f"/deletions/{finished}/receipt.json?image_id=100002", path)
    assert [i["image_id"] for i in receipt["items"]] == ["100002"]
    assert receipt["scope"] == {"image_id": "100002"}
    assert verify(runner, path).exit_code == 0
    assert client.get(f"/deletions/{finished}/receipt.json?image_id=999").status_code == 404


def test_an_inferred_outcome_says_so_as_its_evidence(
    app: Flask, client: FlaskClient, auth: AuthActions, finished: int
) -> None:
    with app.app_context():
        item = db.session.scalars(
            select(DeletionItem).where(DeletionItem.image_id == "100003")
        ).one()
        item.inferred = True
        db.session.commit()
    auth.login("viewer")
    receipt = client.get(f"/deletions/{finished}/receipt.json").get_json()
    evidence = {i["image_id"]: i["evidence"] for i in receipt["items"]}
    assert evidence["100003"] == {"kind": "inferred", "note": "inferred from the image's state"}
    assert evidence["100001"]["kind"] == "operation"
    page = client.get(f"/deletions/{finished}/receipt").get_data(as_text=True)
    assert "inferred from the image&#39;s state" in page
