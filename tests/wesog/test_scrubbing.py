"""Upstream text is kept only after our API key is masked and its length capped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wesog_dash.wesog import WesogClient, WesogValidationError
from wesog_dash.wesog.client import MAX_MESSAGE

KEY = "sk-live-5d0c3b6f0e2a4e71"


class EchoingApi(BaseHTTPRequestHandler):
    """An API that echoes the key it was sent in its error texts (some do)."""

    def do_GET(self) -> None:
        key = self.headers.get("API-Key", "")
        if self.path.startswith("/ops/"):
            body = {
                "method": "del",
                "resource": "image",
                "num_total": 1,
                "num_good": 0,
                "num_bad": 1,
                "is_started": True,
                "is_finished": True,
                "all_good": False,
                "do_wait": False,
                "do_urgent": False,
                "do_strict": False,
                "idle_ms": 1,
                "exec_ms": 1,
                "created_at": "2026-11-28T10:00:00Z",
                "errors": [{"id": "a", "msg": f"denied for key {key}"}],
            }
            self._answer(200, body)
        else:
            self._answer(422, {"detail": f"Invalid API key {key} " + "x" * 2000})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def client() -> Iterator[WesogClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield WesogClient(f"http://127.0.0.1:{server.server_port}", KEY)
    server.shutdown()


def test_an_error_that_echoes_the_key_is_masked_and_capped(client: WesogClient) -> None:
    with pytest.raises(WesogValidationError) as raised:
        client.search_images(q="x")
    message = raised.value.message
    assert KEY not in message and KEY not in str(raised.value)
    assert "Invalid API key [API key]" in message and len(message) <= MAX_MESSAGE


def test_operation_error_texts_are_masked(client: WesogClient) -> None:
    op = client.get_operation(7)
    assert op.errors[0].msg == "denied for key [API key]"
    assert KEY not in json.dumps(op.raw)
