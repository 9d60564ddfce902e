"""Probes and metrics: /readyz tells the truth about the schema, /metrics is guarded, and the
client's address behind proxies is the one ProxyFix allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import text

from tests.conftest import AuthActions
from wesog_dash import create_app
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def test_readyz_is_ready_on_a_migrated_database(client: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"] == "ok" and response.json["migrations"] == "current"
    assert response.json["poller"] in (
        "holds the lease",
        "standing by",
        "not running in this process",
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_refuses_a_database_behind_the_migrations(app: Flask, client: Any) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '3f84b73c28fb'"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["migrations"].startswith("behind (3f84b73c28fb")


def test_readyz_refuses_a_database_that_does_not_answer(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "WESOG_POLLER": "off"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["database"] != "ok"


def test_metrics_are_off_by_default(client: Any) -> None:
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "app_overrides", [{"WESOG_METRICS": True, "WESOG_METRICS_TOKEN": "s3cret-token"}]
)
def test_with_a_token_metrics_answer_its_holders_only_loopback_included(
    app: Flask, client: Any, sandbox: Any
) -> None:
    with app.app_context():
        app.extensions["wesog_upstream"].client().search_images(limit=1)
    right = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/metrics").status_code == 403  # behind a local proxy all are loopback
    body = client.get("/metrics", headers=right).get_data(as_text=True)
    assert 'wesog_upstream_calls_total{method="GET",outcome="ok",route="/imgs"}' in body
    assert "wesog_upstream_call_seconds_bucket" in body
    assert "wesog_poll_lag_seconds" in body and "wesog_poller_lease_info" in body
    assert "wesog_audit_chain_intact" in body
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 403
    assert client.get("/metrics", environ_base=far, headers=right).status_code == 200


@pytest.mark.parametrize("app_overrides", [{"WESOG_METRICS": True}])
def test_without_a_token_metrics_answer_loopback_only(client: Any) -> None:
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403


def test_forwarding_headers_nobody_trusts_are_said_once(
    app: Flask, client: Any, auth: AuthActions, caplog: pytest.LogCaptureFixture
) -> None:
    auth.login("admin")
    assert "proxy" not in client.get("/readyz").get_json()
    assert "data-proxy-notice" not in client.get("/admin/users").get_data(as_text=True)
    forwarded = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    with caplog.at_level("WARNING", logger="wesog_dash.views.proxies"):
        for _ in range(3):
            client.get("/login", headers=forwarded)
    warnings = [r for r in caplog.records if "WESOG_TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(warnings) == 1 and "X-Forwarded-For" in warnings[0].getMessage()
    notice = client.get("/readyz").get_json()["proxy"]
    assert "WESOG_TRUSTED_PROXIES" in notice and "X-Forwarded-For" in notice
    page = client.get("/admin/users").get_data(as_text=True)
    assert "data-proxy-notice" in page and "Set WESOG_TRUSTED_PROXIES" in page


@pytest.mark.parametrize("app_overrides", [{"WESOG_TRUSTED_PROXIES": 1}])
def test_forwarding_headers_of_a_trusted_proxy_are_no_news(app: Flask, client: Any) -> None:
    client.get("/login", headers={"X-Forwarded-For": "198.51.100.7"})
    assert "proxy" not in client.get("/readyz").get_json()


@pytest.mark.parametrize("app_overrides", [{"WESOG_METRICS": True}])
def test_metrics_count_operations_by_state(app: Flask, client: Any, auth: AuthActions) -> None:
    auth.login("viewer")  # a few audit rows, and the deployment gauges read the database
    with app.app_context():
        assert db.session.query(AuditEvent).count() >= 1
    body = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE wesog_operations gauge" in body
    assert "wesog_outbox_deletions" in body


def remote_addr_seen(app: Flask, headers: dict[str, str]) -> str:
    """The address a view sees for a request from 10.1.1.1 with these headers."""
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.remote_addr or "") and None)
    app.test_client().get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    return seen[0]


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(app: Flask) -> None:
    assert remote_addr_seen(app, {"X-Forwarded-For": "6.6.6.6"}) == "10.1.1.1"


@pytest.mark.parametrize("app_overrides", [{"WESOG_TRUSTED_PROXIES": 1}])
def test_one_trusted_proxy_gives_the_client_address_it_saw(app: Flask) -> None:
    # The client forged the first hop; our proxy appended the address it really saw.
    assert remote_addr_seen(app, {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}) == "198.51.100.7"
