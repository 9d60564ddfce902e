"""The poller: watches unfinished operations and sends/reconciles deletions (DESIGN.md)."""

from .core import Poller
from .lease import LEASE_NAME, LeaseKeeper, new_holder_id

__all__ = ["LEASE_NAME", "LeaseKeeper", "Poller", "new_holder_id"]
