"""Prometheus metrics: counters this process keeps, and gauges read from the database.

Every process counts its own upstream calls (the poller process included: `flask wesog poll
--metrics-port N` serves them); the gauges come from the database, so any web process tells
the same story about the deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Mapped

from .. import heartbeat
from ..extensions import db
from ..models import DeletionRequest, Lease, Operation, utcnow

REGISTRY = CollectorRegistry()  # per process: upstream calls
UPSTREAM_CALLS = Counter(
    "wesog_upstream_calls",
    "Calls this process made to the Wesog API, by method, route and outcome.",
    ["method", "route", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_SECONDS = Histogram(
    "wesog_upstream_call_seconds",
    "Time of each call to the Wesog API.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


def observe_upstream_call(method: str, route: str, outcome: str, seconds: float) -> None:
    """The WesogClient observer: count the call and time it."""
    UPSTREAM_CALLS.labels(method, route, outcome).inc()
    UPSTREAM_SECONDS.labels(method, route).observe(seconds)


class DatabaseCollector(Collector):
    """Gauges of the deployment, read at scrape time (a handful of indexed queries)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily | InfoMetricFamily]:
        """One scrape: operations by state, outbox depth, poll lag, lease holder, audit verdict."""
        with self.app.app_context():
            yield _by_state("wesog_operations", "Known operations by state.", Operation.state)
            yield _by_state(
                "wesog_outbox_deletions", "Deletion requests by state.", DeletionRequest.state
            )
            yield _poll_lag(utcnow())
            yield _lease_holder()
            yield _upstream_pace()
            yield _heartbeat_age(self.app)
            db.session.remove()
        yield _audit_verdict(self.app)


def _by_state(name: str, documentation: str, column: Mapped[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state, count in db.session.execute(select(column, func.count()).group_by(column)):
        family.add_metric([str(state)], float(count))
    return family


def _poll_lag(now: datetime) -> GaugeMetricFamily:
    """Seconds the most overdue unfinished operation has waited past its next poll."""
    due = db.session.scalar(
        select(func.min(Operation.next_poll_at)).where(Operation.is_finished.is_(False))
    )
    lag = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
    return GaugeMetricFamily(
        "wesog_poll_lag_seconds", "How far the poller is behind its schedule.", value=lag
    )


def _lease_holder() -> InfoMetricFamily:
    lease = db.session.get(Lease, "poller")
    holder = lease.holder if lease is not None and lease.expires_at > utcnow() else "none"
    family = InfoMetricFamily("wesog_poller_lease", "Which poller holds the lease.")
    family.add_metric([], {"holder": holder})
    return family


def _upstream_pace() -> GaugeMetricFamily:
    """The poller's pace of upstream calls (absent while no poller holds the lease)."""
    family = GaugeMetricFamily(
        "wesog_upstream_pace_calls_per_second",
        "The adaptive pace of the poller's calls to the Wesog API, and why it is what it is.",
        labels=["reason"],
    )
    lease = db.session.get(Lease, "poller")
    if lease is not None and lease.pace_per_second is not None and lease.expires_at > utcnow():
        family.add_metric([lease.pace_reason or ""], float(lease.pace_per_second))
    return family


def _heartbeat_age(app: Flask) -> GaugeMetricFamily:
    """Seconds since a poller last finished a cycle (-1: unknown)."""
    age = heartbeat.read(app).age
    return GaugeMetricFamily(
        "wesog_poller_heartbeat_age_seconds",
        "Seconds since a poller last finished a cycle (-1 when unknown).",
        value=-1.0 if age is None else age,
    )


def _audit_verdict(app: Flask) -> GaugeMetricFamily:
    """1 intact, 0 broken, -1 not checked yet: the cached verdict only (scrapes never walk)."""
    keeper = app.extensions.get("audit_verdict")
    report = getattr(keeper, "report", None)
    value = -1.0 if report is None else (1.0 if report.intact else 0.0)
    return GaugeMetricFamily(
        "wesog_audit_chain_intact", "The audit chain's last verdict in this process.", value=value
    )


def render_metrics(app: Flask) -> tuple[bytes, str]:
    """The exposition text: this process's counters, then this app's database gauges."""
    gauges = app.extensions.get("wesog_metrics_registry")
    if gauges is None:
        gauges = CollectorRegistry()
        gauges.register(DatabaseCollector(app))
        app.extensions["wesog_metrics_registry"] = gauges
    return generate_latest(REGISTRY) + generate_latest(gauges), CONTENT_TYPE_LATEST
