"""A search answer holding more results than asked for is cut to `limit` (and logged): a
broken API cannot make one page render 20,000 cards."""

from __future__ import annotations

import pytest
import requests
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from wesog_dash.sandbox import SandboxServer
from wesog_dash.wesog import WesogClient

EXTRA = 400


def flood_next_search(sandbox: SandboxServer) -> None:
    """The next search answers EXTRA results (copies of real ones), whatever its limit."""
    key = {"API-Key": sandbox.settings.api_key}
    real = requests.get(f"{sandbox.url}/imgs", params={"limit": 1}, headers=key, timeout=5)
    [image] = real.json()["results"]
    flood = [{**image, "image_id": str(900000 + n), "title": "x" * 1000} for n in range(EXTRA)]
    rule = {"endpoint": "search", "field": "results", "value": flood}
    answer = requests.patch(
        f"{sandbox.url}/_sandbox/settings", json={"malformed": [rule]}, headers=key, timeout=5
    )
    assert answer.status_code == 200, answer.text


def test_results_beyond_the_limit_are_dropped_and_logged(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = WesogClient(sandbox.url, sandbox.settings.api_key, timeout=(3.05, 5))
    flood_next_search(sandbox)
    with caplog.at_level("WARNING", logger="wesog_dash.wesog.types"):
        page = client.search_images(limit=5)
    assert len(page.results) == 5 and page.results[0].image_id == "900000"
    assert f"answered {EXTRA} results for limit=5" in caplog.text


def test_the_image_grid_shows_one_page_of_a_flooded_answer(
    client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
) -> None:
    auth.login("viewer")
    flood_next_search(sandbox)
    html = client.get("/images").get_data(as_text=True)
    assert html.count("<code>9000") == html.count('<article class="card"') > 0
    assert "<code>900399</code>" not in html and len(html) < 1_000_000
