"""One round of alerting, as the poller runs it beside its cycle."""

from __future__ import annotations

from .delivery import deliver_due
from .outbox import scan


def run_cycle() -> int:
    """Scan for new events, then deliver what is due; returns how many were sent."""
    scan()
    return deliver_due()
