"""The app factory: configuration, the embedded sandbox, the shell of every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import upgrade

from tests.conftest import AuthActions
from wesog_dash import create_app
from wesog_dash.config import ConfigError, from_environment, settings
from wesog_dash.upstream import upstream


def test_without_an_api_url_the_app_starts_the_sandbox_and_shows_the_badge(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("WESOG_API_URL", raising=False)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "WESOG_API_URL": None,
            "WESOG_POLLER": "off",
            "WESOG_SANDBOX_IMAGES": 20,
        }
    )
    with app.app_context():
        upgrade()
    try:
        gateway = upstream(app)
        assert gateway.is_sandbox
        page = gateway.client().search_images(limit=3)
        assert gateway.base_url().startswith("http://127.0.0.1:")
        assert len(page.results) == 3
        client = app.test_client()
        auth = AuthActions(app, client)
        auth.login("viewer")
        html = client.get("/").get_data(as_text=True)
        assert 'class="badge badge-sandbox"' in html
        assert gateway.sandbox.settings.api_key not in html
    finally:
        upstream(app).close()


def test_with_an_api_url_there_is_no_sandbox_badge(client, auth: AuthActions) -> None:
    auth.login("viewer")
    html = client.get("/").get_data(as_text=True)
    assert "badge-sandbox" not in html
    assert "Overview" in html


def test_environment_configures_the_app(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WESOG_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WESOG_API_KEY", "k")
    monkeypatch.setenv("WESOG_POLL_INTERVAL", "2.5")
    monkeypatch.setenv("WESOG_READ_ONLY", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["WESOG_POLL_INTERVAL"] == 2.5
    assert app.config["WESOG_READ_ONLY"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")
    assert not upstream(app).is_sandbox


def test_anonymous_visitors_are_sent_to_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_page_is_a_friendly_404(client, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Back to the overview" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("WESOG_POLL_INTERVAL", "abc", "'abc' is not a number"),
        ("WESOG_MARKER_CACHE_SECONDS", "½", "is not a number"),
        ("WESOG_CHUNK_SIZE", "1.5", "'1.5' is not a whole number"),
        ("WESOG_SNAPSHOT_DAYS", "7 days" * 50, "is not a whole number"),
    ],
)
def test_a_junk_number_in_the_environment_is_named_not_a_traceback(
    name: str, raw: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        from_environment({name: raw})
    assert expected in str(caught.value) and len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"WESOG_POLL_INTERVAL": -1}, "WESOG_POLL_INTERVAL='-1': Input should be greater than 0"),
        ({"WESOG_POLLER": "sometimes"}, "WESOG_POLLER='sometimes'"),
        ({"WESOG_UNDO_SECONDS": 7200}, "WESOG_UNDO_SECONDS='7200'"),
        ({"WESOG_CHUNK_SIZE": "many"}, "WESOG_CHUNK_SIZE='many'"),
    ],
)
def test_a_setting_out_of_range_stops_the_start_and_is_named(
    overrides: dict[str, object], named: str, tmp_path: Path
) -> None:
    config = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.raises(ConfigError) as caught:
        create_app({**config, **overrides})
    assert named in str(caught.value)


def test_the_typed_settings_follow_the_config_and_a_change_made_while_running(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WESOG_CHUNK_SIZE", "250")
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    chosen = settings(app)
    assert (chosen.chunk_size, chosen.poll_interval, chosen.login_throttle) == (250, 1.0, True)
    assert settings(app) is chosen  # built once, not per read
    app.config["WESOG_CHUNK_SIZE"] = 5  # what a test does to change a setting at runtime
    assert settings(app).chunk_size == 5
    with app.app_context():
        assert settings().chunk_size == 5
