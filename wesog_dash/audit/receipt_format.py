"""The text of an erasure receipt and its offline check: no database, no Flask.

The signature covers the canonical JSON of everything but `signature` (sorted keys, compact,
UTF-8). Inside that signed text, `index` holds short SHA-256 prefixes of each part: of each
field of the deletion, of each operation, event and item, and of each column of the items.
They add no security (the signature does that); they let the checker say *what* changed —
"item 3 (image 100004): outcome changed" — rather than only "the signature does not match".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KIND = "wesog-dash erasure receipt"
VERSION = 1
SCALARS = ("receipt", "version", "issued_at", "scope", "approval")
LISTS = ("operations", "audit_events")
ITEM_COLUMNS = ("image_id", "outcome", "message", "settled_at", "evidence")
SHORT = 16  # hex digits of a part's hash: enough to tell parts apart, not a security margin


def canonical(value: Any) -> str:
    """The exact text that is hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def short_hash(value: Any) -> str:
    """A short SHA-256 of a part's canonical text."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()[:SHORT]


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    return value if isinstance(value, list) else []


def index_of(body: dict[str, Any]) -> dict[str, Any]:
    """Short hashes of every part of a receipt body (what names a change later)."""
    deletion = body.get("deletion")
    items = _list(body, "items")
    return {
        "scalars": {name: short_hash(body.get(name)) for name in SCALARS},
        "deletion": {
            key: short_hash(value)
            for key, value in (deletion.items() if isinstance(deletion, dict) else ())
        },
        **{name: [short_hash(part) for part in _list(body, name)] for name in LISTS},
        "items": [short_hash(item) for item in items],
        "item_columns": {
            column: short_hash(
                [item.get(column) if isinstance(item, dict) else item for item in items]
            )
            for column in ITEM_COLUMNS
        },
    }


def _signed_text(receipt: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in receipt.items() if k != "signature"}).encode("utf-8")


def _compare_map(prefix: str, signed: Any, now: dict[str, str]) -> list[str]:
    signed = signed if isinstance(signed, dict) else {}
    problems = [
        f"{prefix}{key} changed" for key in now if key in signed and signed[key] != now[key]
    ]
    problems += [f"{prefix}{key} was added" for key in now if key not in signed]
    problems += [f"{prefix}{key} was removed" for key in signed if key not in now]
    return problems


def _compare_list(name: str, signed: Any, now: list[str], labels: list[str]) -> list[str]:
    signed = signed if isinstance(signed, list) else []
    problems = [
        f"{labels[n]} changed"
        for n, (was, is_now) in enumerate(zip(signed, now, strict=False))
        if was != is_now
    ]
    if len(signed) != len(now):
        problems.append(f"{name}: {len(signed)} were signed, {len(now)} are there now")
    return problems


def _item_label(receipt: dict[str, Any], n: int, columns: list[str]) -> str:
    item = _list(receipt, "items")[n]
    image = item.get("image_id") if isinstance(item, dict) else None
    what = " or ".join(columns) if columns else "its content"
    return f"item {n + 1} (image {image!r}): {what}"


def _event_label(receipt: dict[str, Any], n: int) -> str:
    event = _list(receipt, "audit_events")[n]
    return f"audit event #{event.get('id') if isinstance(event, dict) else '?'}"


def changes(receipt: dict[str, Any]) -> list[str]:
    """What differs from the signed index: each changed part, named."""
    signed, now = receipt.get("index"), index_of(receipt)
    if not isinstance(signed, dict):
        return ["the signed index is missing"]
    found = _compare_map("", signed.get("scalars"), now["scalars"])
    found += _compare_map("deletion.", signed.get("deletion"), now["deletion"])
    columns_now, columns_signed = now["item_columns"], signed.get("item_columns") or {}
    changed = [c for c in ITEM_COLUMNS if columns_signed.get(c) != columns_now[c]]
    items = _list(receipt, "items")
    labels = [_item_label(receipt, n, changed) for n in range(len(items))]
    found += _compare_list("items", signed.get("items"), now["items"], labels)
    found += _compare_list(
        "operations",
        signed.get("operations"),
        now["operations"],
        [f"operation {n + 1}" for n in range(len(now["operations"]))],
    )
    events = [_event_label(receipt, n) for n in range(len(now["audit_events"]))]
    found += _compare_list("audit events", signed.get("audit_events"), now["audit_events"], events)
    return found


def check(receipt: Any, public_key: Ed25519PublicKey, expected_key_id: str) -> list[str]:
    """Every problem of a receipt (an empty list: intact and signed by `public_key`)."""
    if not isinstance(receipt, dict) or receipt.get("receipt") != KIND:
        return ["this is not a wesog-dash erasure receipt"]
    if receipt.get("key_id") != expected_key_id:
        return [f"signed by key {receipt.get('key_id')!r}, not by the key {expected_key_id}"]
    try:
        signature = base64.b64decode(str(receipt.get("signature", "")), validate=True)
        public_key.verify(signature, _signed_text(receipt))
    except (InvalidSignature, binascii.Error, ValueError):
        return changes(receipt) or [
            "the signature does not match: the signature, the key id or the signed index "
            "was altered"
        ]
    return []
