"""Big deletions: a 25,000-match search resolved in the background, uploaded id files, and
pages that count big lists instead of drawing them."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FAST_POLLING, AuthActions, wait_for
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HTMX = {"HX-Request": "true"}
BIG = 25_000


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; the budget does not slow a test down."""
    return {**FAST_POLLING, "WESOG_MAX_CALLS_PER_SECOND": 100}


def selection_url(response: Any) -> str:
    """Where the confirmation of a stored list lives."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert re.fullmatch(r"/selections/\d+", location), location
    return location


def upload(client: FlaskClient, token: str, name: str, content: str) -> Any:
    """Post the "Delete by id" form with a file."""
    data = {"csrf_token": token, "ids_file": (io.BytesIO(content.encode()), name)}
    return client.post("/deletions/new", data=data, content_type="multipart/form-data")


class TestResolvingABigSearch:
    @pytest.fixture
    def sandbox_settings(self) -> SandboxSettings:
        """Enough images for 25,000 matches (three pages of 10,000)."""
        return SandboxSettings(api_key="test-key-5f3a", images=BIG, item_ms=0, start_ms=0)

    def test_25000_matches_are_resolved_in_the_background_with_progress_and_a_hash(
        self, app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
    ) -> None:
        token = auth.login("operator")
        data = {"csrf_token": token, "all_matching": "1", "selection_query": "id>=100001"}
        url = selection_url(client.post("/deletions/new", data=data))
        first = client.get(url).get_data(as_text=True)
        assert "Finding every image" in first and "<progress" in first and "hx-get" in first

        def ready() -> str | None:
            poller.run_once()
            html = client.get(url + "/live", headers=HTMX).get_data(as_text=True)
            return None if "hx-get" in html else html

        html = wait_for(ready, timeout=60)
        assert "Delete 25,000 images?" in html and "Showing the first 200 of 25,000 ids" in html
        assert html.count("<li>") == 200 and 'name="image_ids"' not in html
        expected = [str(100001 + n) for n in range(BIG)]
        digest = hashlib.sha256("\n".join(expected).encode()).hexdigest()
        assert digest in html
        selection_id = int(url.rsplit("/", 1)[1])
        with app.app_context():
            selection = deletions.get_selection(selection_id)
            assert selection is not None and (selection.resolved, selection.pages) == (BIG, 3)
            form = {
                "csrf_token": token,
                "reason": "licence expired",
                "selection_id": selection_id,
                "ids_sha256": digest,
            }
        response = client.post("/deletions", data=form)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Showing the first 200 of 25000 images" in page
        with app.app_context():
            deletion = deletions.get_deletion(int(response.headers["Location"].rsplit("/", 1)[1]))
            assert deletion is not None
            assert (deletion.item_count, deletion.ids_sha256) == (BIG, digest)
            assert deletion.selection_kind == "query"


def test_an_uploaded_csv_is_read_from_its_first_column(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("operator")
    rows = "image_id,note\n" + "".join(f"{100001 + n},x\n" for n in range(300)) + "100001,dup\n"
    url = selection_url(upload(client, token, "takedown.csv", rows))
    html = client.get(url).get_data(as_text=True)
    assert "Delete 300 images?" in html and "Showing the first 200 of 300 ids" in html
    assert "<code>100001</code>" in html and "note" not in html


def test_a_short_uploaded_txt_is_confirmed_id_by_id(client: FlaskClient, auth: AuthActions) -> None:
    token = auth.login("operator")
    page = upload(client, token, "ids.txt", "100001\n\n100002\r\n100003\n")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Delete 3 images?" in html
    assert re.findall(r'name="image_ids" value="([^"]+)"', html) == ["100001", "100002", "100003"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ids.pdf", "100001", "Upload a .txt file"),
        ("ids.csv", "\n".join(str(n) for n in range(100_001)), "At most 100000 images"),
        ("ids.txt", "bad/id\n" * 201 + "".join(f"x{n}\n" for n in range(200)), "bad/id"),
    ],
)
def test_a_bad_upload_is_refused_with_a_message_and_stores_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, name: str, content: str, message: str
) -> None:
    token = auth.login("operator")
    page = upload(client, token, name, content)
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    with app.app_context():
        assert deletions.get_selection(1) is None
