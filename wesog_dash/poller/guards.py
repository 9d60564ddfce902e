"""The guard rails the lease holder keeps in time: deletions nobody approved in time expire,
and due retention policies run, once each."""

from __future__ import annotations

from .. import deletions, policies


def keep_guard_rails() -> None:
    """Expire unapproved deletions, then run every retention policy whose slot has come."""
    deletions.expire_due()
    policies.run_due()
