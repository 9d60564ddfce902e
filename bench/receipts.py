"""Erasure receipts of big deletions: how long issuing and checking one takes, and its size.

A finished deletion of N images (all deleted by one operation) is written straight into a
migrated SQLite file; the receipt is then built and signed (`receipts.issue`, what the download
and the API do) and checked as `flask audit verify-receipt` does. Nothing is sent upstream.

    .venv/bin/python bench/receipts.py [--images 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _support import create_app, migrated_database
from sqlalchemy import insert


def fill(images: int) -> int:
    """One finished deletion of `images` deleted images and its operation; its id."""
    from wesog_dash.extensions import db
    from wesog_dash.models import DeletionItem, DeletionRequest, Operation, utcnow

    now = utcnow()
    deletion = DeletionRequest(
        actor="ana",
        reason="licence expired",
        ids_sha256="0" * 64,
        state="done",
        item_count=images,
        created_at=now,
        finished_at=now,
    )
    db.session.add(deletion)
    db.session.flush()
    db.session.add(
        Operation(
            op_id=1,
            method="del",
            num_total=images,
            num_good=images,
            is_started=True,
            is_finished=True,
            deletion_id=deletion.id,
            state="finished",
            created_at=now,
            started_at=now,
            finished_at=now,
        )
    )
    db.session.flush()
    rows = [
        {
            "deletion_id": deletion.id,
            "position": n,
            "image_id": str(100001 + n),
            "outcome": "deleted",
            "op_id": 1,
            "settled_at": now,
        }
        for n in range(images)
    ]
    db.session.execute(insert(DeletionItem.__table__), rows)
    db.session.commit()
    return deletion.id


def main() -> None:
    """Issue and check one receipt of N images; print the times and the size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp(prefix="wesog-receipts-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": migrated_database({}),
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": "http://127.0.0.1:9",
            "WESOG_API_KEY": "k",
            "WESOG_AUDIT_KEY_FILE": str(keys / "audit-signing.key"),
        }
    )
    from wesog_dash.audit import receipt_format, receipts
    from wesog_dash.audit.digests import key_id, signing_key

    with app.app_context():
        deletion_id = fill(args.images)
        started = time.perf_counter()
        text = json.dumps(receipts.issue(deletion_id))
        issued = time.perf_counter() - started
        key = signing_key().public_key()
        started = time.perf_counter()
        problems = receipt_format.check(json.loads(text), key, key_id(key))
        checked = time.perf_counter() - started
    print(
        f"receipt of {args.images:,} images: {len(text) / 1e6:.1f} MB, issued in {issued:.2f} s, "
        f"checked in {checked:.2f} s ({'intact' if not problems else problems[0]})"
    )


if __name__ == "__main__":
    main()
