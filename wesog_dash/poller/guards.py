"""The guard rails the lease holder keeps in time: due retention policies run, once each."""

from __future__ import annotations

from .. import policies


def keep_guard_rails() -> None:
    """Run every retention policy whose slot has come (each claimed by one UPDATE)."""
    policies.run_due()
