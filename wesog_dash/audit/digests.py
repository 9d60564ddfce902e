"""Signed digests of the chain head, like CloudTrail's digest files.

The hash chain proves the log consistent, not authentic: whoever can rewrite the database can
recompute every hash. So, at an interval, the console signs the current head (event id, hash,
time) with an Ed25519 key kept in a file outside the database, and writes the signed digest to
a directory. `flask audit verify --digests DIR` checks each signature and that each signed
head is still in the chain with the same hash: a rebuilt chain cannot match them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from ..config import settings
from ..extensions import db
from ..models import AuditEvent, AuditHead, utcnow

SIGNED_FIELDS = ("event_id", "hash", "at", "signed_at", "key_id")


def key_path() -> Path:
    """Where the signing key lives: WESOG_AUDIT_KEY_FILE, else the instance folder."""
    configured = settings().audit_key_file
    return Path(configured or Path(current_app.instance_path) / "audit-signing.key")


def signing_key() -> Ed25519PrivateKey:
    """The private key, created (mode 0600) on first use."""
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM text (what `flask audit keys` prints)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of its DER's SHA-256."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def _message(digest: dict[str, Any]) -> bytes:
    return json.dumps({k: digest[k] for k in SIGNED_FIELDS}, sort_keys=True).encode()


def sign_head(directory: Path) -> Path | None:
    """Sign the current head into a new file in `directory`; None when the log is empty."""
    head = db.session.execute(select(AuditHead.event_id, AuditHead.hash, AuditHead.at)).first()
    if head is None:
        return None
    key = signing_key()
    digest: dict[str, Any] = {
        "event_id": head.event_id,
        "hash": head.hash,
        "at": head.at.isoformat(),
        "signed_at": utcnow().isoformat(),
        "key_id": key_id(key.public_key()),
    }
    digest["signature"] = base64.b64encode(key.sign(_message(digest))).decode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"digest-{head.event_id:012d}-{utcnow():%Y%m%dT%H%M%S%f}.json"
    path.write_text(json.dumps(digest, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class DigestProblem:
    """One digest that does not hold: which file, and why."""

    path: Path
    problem: str


def check_digest(path: Path, public_key: Ed25519PublicKey) -> str | None:
    """What is wrong with one digest file (None: signed by this key and still in the chain)."""
    try:
        digest = json.loads(path.read_text())
        signature = base64.b64decode(digest["signature"])
        public_key.verify(signature, _message(digest))
    except (ValueError, KeyError, TypeError):
        return "unreadable digest file"
    except InvalidSignature:
        return "its signature does not match the public key"
    event_id = digest["event_id"]
    stored = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))
    if stored is None:
        if event_id <= pruned_through():
            return None  # removed by a recorded prune, which the chain itself vouches for
        return f"event #{event_id} it signed is gone, and no recorded prune removed it"
    if stored != digest["hash"]:
        return f"event #{event_id} no longer has the signed hash: the chain was rewritten"
    return None


def verify_digests(
    directory: Path, public_key: Ed25519PublicKey
) -> tuple[int, list[DigestProblem]]:
    """Check every digest file in `directory`; (how many were checked, the problems found)."""
    paths = sorted(directory.glob("digest-*.json"))
    problems = [
        DigestProblem(path, problem)
        for path in paths
        if (problem := check_digest(path, public_key)) is not None
    ]
    return len(paths), problems


def pruned_through() -> int:
    """The newest event id that a recorded `audit.pruned` event says was removed (0: none)."""
    rows = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "audit.pruned"))
    return max((int(d.get("last_removed_id") or 0) for d in rows if d), default=0)


class DigestSchedule:
    """Signs the head every WESOG_AUDIT_DIGEST_SECONDS, when it moved (run by the poller)."""

    def __init__(self) -> None:
        self.last_at: datetime | None = None
        self.last_head: int | None = None

    def run(self) -> Path | None:
        """Sign now if a digest directory is set, the interval passed and the head moved."""
        directory, every = settings().audit_digest_dir, settings().audit_digest_seconds
        now = utcnow()
        if not directory or every <= 0:
            return None
        if self.last_at is not None and (now - self.last_at).total_seconds() < every:
            return None
        head = db.session.scalar(select(AuditHead.event_id))
        self.last_at = now
        if head is None or head == self.last_head:
            return None
        self.last_head = head
        return sign_head(Path(directory))
