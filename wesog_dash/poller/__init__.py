"""The poller: the one caller of `GET /ops…`, and the runner of the deletion outbox.

Watches unfinished operations, sends and reconciles deletions, and imports the tenant's other
operations (`discovery`). A lease row makes sure one poller works at a time. May import
`deletions`, `operations`, `metrics` (batched rollups), `alerts`, `audit`, `policies` (run
by the lease holder), `models`, `upstream` and `wesog`; never views.
"""

from .core import Poller, end_frozen_transactions
from .lease import LEASE_NAME, LeaseKeeper, new_holder_id, pace_shown, pause_shown

__all__ = [
    "LEASE_NAME",
    "LeaseKeeper",
    "Poller",
    "end_frozen_transactions",
    "new_holder_id",
    "pace_shown",
    "pause_shown",
]
