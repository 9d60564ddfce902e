"""Helpers shared by the sandbox tests: polling with a deadline and a thin API client."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from tests.conftest import wait_for as poll
from wesog_dash.sandbox import SandboxServer

TIMEOUT = 10
OP_FIELDS = [
    "method",
    "resource",
    "num_total",
    "num_good",
    "num_bad",
    "is_started",
    "is_finished",
    "all_good",
    "do_wait",
    "do_urgent",
    "do_strict",
    "idle_ms",
    "exec_ms",
    "created_at",
    "started_at",
    "finished_at",
    "errors",
]


def img_path(image_id: str) -> str:
    """Path of one image, the id percent-encoded as one segment."""
    return "/imgs/" + quote(image_id, safe="")


class Api:
    """Thin helper over a requests session aimed at one sandbox."""

    def __init__(self, server: SandboxServer, session: requests.Session) -> None:
        self.server = server
        self.session = session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any request, with a timeout."""
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.server.url + path, **kwargs)

    def search(self, **params: Any) -> dict[str, Any]:
        """`GET /imgs` that must succeed."""
        response = self.call("GET", "/imgs", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(self, q: str = "", **params: Any) -> list[str]:
        """Ids of every hit of `q`, in response order."""
        results = self.search(q=q, limit=10000, **params)["results"]
        return [image["image_id"] for image in results]

    def everything(self) -> list[dict[str, Any]]:
        """All images, default order."""
        return self.search(limit=10000)["results"]

    def op(self, op_id: int) -> dict[str, Any]:
        """`GET /ops/{op_id}` that must succeed."""
        response = self.call("GET", f"/ops/{op_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def finished(self, op_id: int) -> dict[str, Any]:
        """Poll the operation until it is finished."""
        return poll(lambda: (op := self.op(op_id))["is_finished"] and op)

    def ops(self, **params: Any) -> list[dict[str, Any]]:
        """`GET /ops` that must succeed."""
        response = self.call("GET", "/ops", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def knobs(self, **changes: Any) -> dict[str, Any]:
        """`PATCH /_sandbox/settings` that must succeed; returns the knobs."""
        response = self.call("PATCH", "/_sandbox/settings", json=changes)
        assert response.status_code == 200, response.text
        return response.json()
