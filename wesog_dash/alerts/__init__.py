"""Alerts: an outgoing webhook (JSON with a Slack-compatible `text`, HMAC-SHA256 signed) when
a deletion ends with failures or is stopped, an operation goes stale or is lost upstream, or the
failure rate of the last hour passes WESOG_ALERT_FAILURE_RATE.

Owns the `alert_outbox` table. `scan` finds new events and queues one alert each (a unique
key per event: never twice), `deliver_due` sends a bounded number with short timeouts, retrying
with back-off; the poller runs `run_cycle` beside its own work, never waiting for it. May
import `models`, `extensions`, `audit`, `metrics` and `requests`; never `deletions`,
`operations`, the poller or views.
"""

from .cycle import run_cycle
from .delivery import SIGNATURE_HEADER, deliver_due, sign, verify
from .outbox import enabled, queue, queue_test, recent, scan, target_host

__all__ = [
    "SIGNATURE_HEADER",
    "deliver_due",
    "enabled",
    "queue",
    "queue_test",
    "recent",
    "run_cycle",
    "scan",
    "sign",
    "target_host",
    "verify",
]
