"""The image pages against the real sandbox: grid, paging, search, upstream trouble."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from wesog_dash.sandbox import SandboxServer
from wesog_dash.wesog import WesogClient

HTMX = {"HX-Request": "true"}


def card_ids(html: str) -> list[str]:
    """The image ids of the cards on a page, in order."""
    return re.findall(r'<div class="meta">id <code>([^<]+)</code>', html)


def test_the_grid_shows_cards_with_thumbnail_title_date_and_links(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    response = client.get("/images")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    ids = card_ids(html)
    assert ids[:3] == ["100001", "100002", "100003"] and len(ids) == 24
    assert "/thumbs/100001.svg" in html and 'alt="Photo of' in html
    assert 'href="/images/100001"' in html
    assert "t~beach &amp;&amp; d&gt;2020-01-01" in html  # the help line
    assert "60 images" in html
    assert "data-open-dialog" not in html  # a viewer gets no delete button


def test_paging_goes_forward_and_back(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    page2 = client.get("/images?page=2").get_data(as_text=True)
    assert card_ids(page2)[0] == "100025"
    assert 'href="/images?page=1"' in page2 and 'href="/images?page=3"' in page2
    page3 = client.get("/images?page=3").get_data(as_text=True)
    assert len(card_ids(page3)) == 12 and "Next →" not in page3
    assert client.get("/images?page=abc").status_code == 200


def test_a_search_narrows_the_grid_and_htmx_gets_only_the_grid(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    html = client.get("/images", query_string={"q": "id=100042"}).get_data(as_text=True)
    assert card_ids(html) == ["100042"]
    assert 'value="id=100042"' in html  # the formula stays in the box
    fragment = client.get("/images?q=id%3D100042", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and card_ids(body) == ["100042"]
    assert 'id="image-results"' in body
    assert "<html" not in body and "Search formula" not in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_operators_get_a_delete_dialog_with_reason_and_options(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator")
    html = client.get("/images?q=id%3D100042").get_data(as_text=True)
    assert 'data-open-dialog="delete-dialog-1"' in html
    dialog = html[html.index('<dialog id="delete-dialog-1"') : html.index("</dialog>")]
    assert "/thumbs/100042.svg" in dialog and "<code>100042</code>" in dialog
    assert 'name="reason"' in dialog and "required" in dialog
    for option in ("wait", "urgent", "strict"):
        box = re.search(rf'<input[^>]*name="{option}"[^>]*>', dialog)
        assert box and 'type="checkbox"' in box.group(0) and "checked" not in box.group(0)
    assert 'hx-post="/deletions"' in dialog and 'name="image_ids" value="100042"' in dialog
    assert "Delete by id" in html


def test_a_formula_the_api_rejects_is_shown_next_to_it_and_kept(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    response = client.get("/images", query_string={"q": "zz>3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown filter &#39;zz&#39;" in html and 'id="q-error"' in html
    assert 'value="zz&gt;3"' in html
    assert "Traceback" not in html
    # htmx swaps a 422 in place (the page's responseHandling), like a 200.
    assert '{"code": "422", "swap": true, "error": false}' in html
    fragment = client.get("/images", query_string={"q": "zz>3"}, headers=HTMX)
    assert fragment.status_code == 422 and "HX-Request" in fragment.headers["Vary"]
    assert 'hx-swap-oob="true"' in fragment.get_data(as_text=True)


@pytest.mark.parametrize(
    ("knob", "expected"),
    [
        ("rate_5xx", "Cannot reach the Wesog API"),
        ("rate_429", "rate limiting this console; retry in 1 s"),
    ],
)
def test_upstream_outages_are_a_message_not_a_stack_trace(
    client: FlaskClient,
    auth: AuthActions,
    sandbox: SandboxServer,
    knob: str,
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    auth.login("viewer")
    setattr(sandbox.settings, knob, 1.0)
    response = client.get("/images")
    html = response.get_data(as_text=True)
    assert response.status_code in (502, 503)
    assert expected in html and 'class="error-box"' in html
    assert "Traceback" not in html and sandbox.settings.api_key not in html
    [record] = [r for r in caplog.records if "Wesog API problem" in r.getMessage()]
    assert record.levelname == "WARNING" and "GET /images" in record.getMessage()


class TestWrongKey:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_API_KEY": "not-the-key"}

    def test_a_refused_key_is_explained(self, client: FlaskClient, auth: AuthActions) -> None:
        auth.login("viewer")
        response = client.get("/images")
        html = response.get_data(as_text=True)
        assert response.status_code == 502
        assert "refused the configured key" in html and "not-the-key" not in html


class TestUnreachable:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_API_URL": "http://127.0.0.1:9", "WESOG_CONNECT_TIMEOUT": 0.5}

    def test_an_unreachable_api_is_explained(self, client: FlaskClient, auth: AuthActions) -> None:
        auth.login("viewer")
        response = client.get("/images", headers=HTMX)
        html = response.get_data(as_text=True)
        assert response.status_code == 502
        # Not swapped (5xx): app.js toasts the sentence the answer carries as an alert.
        assert re.search(r'role="alert">\s*Cannot reach the Wesog API', html)


def test_the_detail_page_shows_every_field_and_a_delete_form(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator")
    html = client.get("/images/100042").get_data(as_text=True)
    assert "Coffee cup 100042" in html and '<dt title="keywords">Keywords</dt>' in html
    assert 'id="delete"' in html and 'action="/deletions"' in html
    missing = client.get("/images/no%20such%20image")
    assert missing.status_code == 404
    assert "no image with id &#39;no such image&#39;" in missing.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/images")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_odd_ids_travel_as_one_encoded_path_segment(
    client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
) -> None:
    odd = "ünï a#b?c"
    api = WesogClient(sandbox.url, sandbox.settings.api_key)
    try:
        api.add_images([{"id": odd, "src": "https://example.com/odd.jpg"}], wait=True)
    finally:
        api.close()
    auth.login("operator")
    encoded = "/images/" + quote(odd, safe="")
    pages = [client.get(f"/images?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert any(f'href="{encoded}"' in page for page in pages)
    detail = client.get(encoded)
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "<code>ünï a#b?c</code>" in html
    assert 'name="image_ids" value="ünï a#b?c"' in html


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "search", "field": "count", "value": "x"},
        {"endpoint": "search", "field": "count", "raw": "1e400"},
        {"endpoint": "search", "field": "count", "value": -3},
        {"endpoint": "search", "field": "facets", "value": [1, 2]},
        {"endpoint": "search", "body": "truncated"},
    ],
    ids=["text", "1e400", "negative", "facets-list", "truncated"],
)
def test_a_malformed_search_answer_is_an_upstream_error_not_a_500(
    client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, rule: dict
) -> None:
    auth.login("viewer")
    sandbox.settings.malformed = [{**rule, "count": None}]
    response = client.get("/images")
    assert response.status_code == 502
    assert "answered something unreadable" in response.get_data(as_text=True)


def test_a_formula_error_points_at_its_position_with_help_and_the_url_follows(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    response = client.get("/images", query_string={"q": "t~(a"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="caret-line"' in html
    caret = re.search(r'<pre class="caret-line" aria-hidden="true">t~\(a\n( *)\^</pre>', html)
    assert caret, "a caret under the offending character"
    assert "Formula syntax" in client.get("/images").get_data(as_text=True)
    assert 'href="/images?q=ai%3Dtrue"' in html  # example chips
    assert response.headers["HX-Push-Url"] == "/images?q=t~(a"  # the URL shows the bad formula


def test_the_pager_says_how_many_pages_there_are(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    html = client.get("/images").get_data(as_text=True)
    assert re.search(r"Page 1 of \d+", html)


@pytest.mark.parametrize(
    ("q", "position", "said"),
    [
        ("d>>2020-01-01", 2, "one too many"),
        ("t~car && d>2020-13-01", 16, "no month 13"),
        ("d=2021-04-31", 10, "has no day 31"),
        ("t~(a", None, None),  # the API's own message, its position shown once
    ],
)
def test_a_formula_error_names_the_character_once_with_a_caret_and_no_field_code(
    client: FlaskClient, auth: AuthActions, q: str, position: int | None, said: str | None
) -> None:
    auth.login("viewer")
    response = client.get("/images", query_string={"q": q}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = html[html.index('id="q-error"') :]
    assert "query.q" not in error and "position" not in error
    assert error.count("character ") == 1
    caret = re.search(r'<pre class="caret-line" aria-hidden="true">[^\n]*\n( *)\^</pre>', error)
    assert caret is not None
    if position is not None:
        assert len(caret.group(1)) == position and f"character {position + 1}" in error
    if said:
        assert said in error
