"""The audit trail: recording events in a hash chain, proving it intact, finding and exporting
events, and the history of one image.

Owns the `audit_events` and `audit_head` tables. May import `models`, `extensions` and Flask;
never a service above it (deletions, operations, accounts call `record`, not the other way).
"""

from .hashing import GENESIS_HASH, canonical_json, event_hash
from .recording import current_actor, record

__all__ = ["GENESIS_HASH", "canonical_json", "current_actor", "event_hash", "record"]
