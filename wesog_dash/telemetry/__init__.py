"""Telemetry for the monitoring people already run: Prometheus metrics of this process
(upstream calls and their latency) and of the deployment (read from the database at scrape).

Owns no table. May import `models`, `extensions`, `audit`, `heartbeat` and
`prometheus_client`; never `deletions`, the poller or views.
"""

from .prometheus import observe_upstream_call, render_metrics

__all__ = ["observe_upstream_call", "render_metrics"]
