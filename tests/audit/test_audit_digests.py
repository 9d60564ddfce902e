"""Signed digests of the chain head catch what the chain alone cannot: a consistent rewrite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.audit.helpers import add_events
from wesog_dash.audit import chain
from wesog_dash.audit.hashing import event_hash
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, AuditHead

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, Any]:
    """A signing key of the test's own, and digests signed at every poller cycle."""
    return {
        "WESOG_AUDIT_KEY_FILE": str(tmp_path / "keys" / "audit.key"),
        "WESOG_AUDIT_DIGEST_DIR": str(tmp_path / "digests"),
        "WESOG_AUDIT_DIGEST_SECONDS": 0.001,
    }


def rewrite_consistently(app: Flask, event_id: int, reason: str) -> None:
    """What someone with write access to the database could do: edit a row, then recompute
    every hash after it and the head, so that the chain verifies again."""
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id >= event_id).order_by(AuditEvent.id)
        ).all()
        previous = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id - 1))
        for event in events:
            if event.id == event_id:
                event.reason = reason
            event.prev_hash = previous or event.prev_hash
            event.hash = event_hash(event)
            previous = event.hash
        db.session.execute(update(AuditHead).values(hash=previous))
        db.session.commit()
        assert chain.verify().intact, "the rewrite must fool the chain alone"


def test_verify_with_digests_catches_a_consistently_rebuilt_chain(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    ids = add_events(app, 5)
    signed = runner.invoke(args=["audit", "digest", "--dir", str(tmp_path / "digests")])
    assert signed.exit_code == 0 and "signed the head" in signed.output
    assert (
        runner.invoke(args=["audit", "verify", "--digests", str(tmp_path / "digests")]).exit_code
        == 0
    )
    rewrite_consistently(app, ids[1], "nothing to see here")
    result = runner.invoke(args=["audit", "verify", "--digests", str(tmp_path / "digests")])
    assert result.exit_code == 1
    assert "no longer has the signed hash: the chain was rewritten" in result.output


def test_a_digest_signed_by_another_key_is_refused(app: Flask, runner: Any, tmp_path: Path) -> None:
    add_events(app, 2)
    runner.invoke(args=["audit", "digest", "--dir", str(tmp_path / "digests")])
    [path] = (tmp_path / "digests").glob("digest-*.json")
    digest = json.loads(path.read_text())
    digest["hash"] = "f" * 64  # a forger would have to sign this
    path.write_text(json.dumps(digest))
    result = runner.invoke(args=["audit", "verify", "--digests", str(tmp_path / "digests")])
    assert result.exit_code == 1 and "signature does not match" in result.output


def test_keys_prints_a_public_key_and_never_the_private_one(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = runner.invoke(args=["audit", "keys"])
    assert result.exit_code == 0 and "BEGIN PUBLIC KEY" in result.output
    assert "PRIVATE" not in result.output
    key_file = tmp_path / "keys" / "audit.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    public = tmp_path / "public.pem"
    public.write_text(result.stdout)
    add_events(app, 1)
    runner.invoke(args=["audit", "digest", "--dir", str(tmp_path / "digests")])
    checked = runner.invoke(
        args=[
            "audit",
            "verify",
            "--digests",
            str(tmp_path / "digests"),
            "--public-key",
            str(public),
        ]
    )
    assert checked.exit_code == 0 and "digests intact: 1 signed heads" in checked.output


def test_the_poller_signs_the_head_when_it_moves(app: Flask, poller: Any, tmp_path: Path) -> None:
    add_events(app, 2)
    poller.run_once()
    poller.run_once()  # the head did not move: no second digest
    assert len(list((tmp_path / "digests").glob("digest-*.json"))) == 1
    add_events(app, 1)
    poller.run_once()
    assert len(list((tmp_path / "digests").glob("digest-*.json"))) == 2
