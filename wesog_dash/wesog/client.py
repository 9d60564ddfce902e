"""WesogClient: HTTP to the Wesog API turned into typed results and typed errors.

Knows nothing of Flask or the database. Reads are retried with back-off on connection
errors and 5xx (urllib3's Retry); writes are never re-sent blindly, because a delete that
reached the server but lost its answer must be reconciled, not repeated.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from .cancelling import CancelResult, cancel_result
from .capabilities import Capabilities
from .errors import (
    WesogBadResponse,
    WesogError,
    WesogOutcomeUnknown,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)
from .gate import GATED_READ_ATTEMPTS, GATED_RETRY, READ_RETRY, Gate
from .ids import image_id_problem
from .operation import OperationSnapshot
from .paths import flag, image_path, never_connected, route_of
from .responses import raise_for_error
from .types import Image, SearchPage, capped, search_count

MAX_MESSAGE = 500  # characters of an upstream message we keep or show
# Told of every call: (method, route template, "ok" or the error class name, seconds).
Observer = Callable[[str, str, str, float], None]


class WesogClient:
    """A pooled, timed-out, typed client for one Wesog API base URL and key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: tuple[float, float] = (3.05, 10.0),  # (connect, read) seconds
        pool_size: int = 16,
        gate: Gate | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.observer = observer
        self.timeout = timeout
        self.gate = gate
        self.capabilities = Capabilities()  # what this process learned the API accepts
        self._last = threading.local()  # the headers of this thread's last answer
        self.session = requests.Session()
        self.session.headers.update({"API-Key": api_key, "Accept": "application/json"})
        retry = READ_RETRY if gate is None else GATED_RETRY
        adapter = HTTPAdapter(max_retries=retry, pool_connections=2, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:  # never show the key
        return f"WesogClient({self.base_url!r})"

    def scrub(self, text: str, limit: int | None = MAX_MESSAGE) -> str:
        """Upstream text made safe to keep: our API key masked (an API may echo it), capped."""
        key = str(self.session.headers.get("API-Key") or "")
        if key and key in text:
            text = text.replace(key, "[API key]")
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    # -- transport ------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        if self.gate is None:
            return self._observed(method, path, timeout=timeout, **kw)
        attempts = GATED_READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(attempts):
            self.gate.before_call()
            started = time.perf_counter()
            try:
                body = self._observed(method, path, timeout=timeout, **kw)
            except WesogRateLimited as exc:
                self.gate.rate_limited(exc.retry_after)
                raise
            except WesogUnavailable as exc:
                trouble = "5xx" if exc.status else "timeout"  # no status: no answer at all
                self.gate.completed(None, time.perf_counter() - started, trouble)
                if attempt + 1 >= attempts:
                    raise
                time.sleep(0.2 * 2**attempt)
                continue
            except WesogError:
                self.gate.completed(None, time.perf_counter() - started, None)  # an answer
                raise
            # Only reads of one object take comparable times (a search's depends on its size).
            timed = route_of(path) if method == "GET" and "{id}" in route_of(path) else None
            self.gate.completed(timed, time.perf_counter() - started, None)
            return body
        raise AssertionError("unreachable")

    def _observed(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        if self.observer is None:
            return self._send(method, path, timeout=timeout, **kw)
        started, outcome = time.perf_counter(), "error"
        try:
            body = self._send(method, path, timeout=timeout, **kw)
            outcome = "ok"
            return body
        except WesogError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            self.observer(method, route_of(path), outcome, time.perf_counter() - started)

    def _send(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        url = self.base_url + path
        limit = self.timeout if timeout is None else (self.timeout[0], timeout)
        try:
            response = self.session.request(method, url, timeout=limit, **kw)
        except requests.ConnectTimeout as exc:
            raise WesogUnavailable("The Wesog API could not be reached (connect timeout)") from exc
        except requests.ConnectionError as exc:
            if method != "GET" and not never_connected(exc):
                raise WesogOutcomeUnknown(
                    "The connection broke after the request was sent; its outcome is unknown"
                ) from exc
            raise WesogUnavailable("The Wesog API could not be reached") from exc
        except requests.Timeout as exc:
            if method != "GET":
                raise WesogOutcomeUnknown(
                    "The Wesog API did not answer in time; the request may still have been done"
                ) from exc
            raise WesogUnavailable("The Wesog API did not answer in time") from exc
        except requests.RequestException as exc:
            raise WesogUnavailable(
                f"Request to the Wesog API failed: {type(exc).__name__}"
            ) from exc
        self._last.headers = response.headers
        try:
            raise_for_error(response)
        except WesogError as exc:
            exc.message = self.scrub(exc.message)
            exc.args = (exc.message,)
            raise
        if response.status_code == 204 or not response.content:
            return None
        try:
            return json.loads(self.scrub(response.text, limit=None))
        except ValueError as exc:
            raise WesogBadResponse(
                "The Wesog API answered with something that is not JSON"
            ) from exc

    def _write_op(
        self, method: str, path: str, params: dict[str, str], **kw: Any
    ) -> OperationSnapshot:
        body = self._request(method, path, params=params, **kw)
        op = OperationSnapshot.from_json(body)
        if op.op_id is None:
            raise WesogBadResponse("The Wesog API accepted the request but gave no op_id")
        return op

    @staticmethod
    def _write_params(wait: bool, urgent: bool, strict: bool) -> dict[str, str]:
        return {"wait": flag(wait), "urgent": flag(urgent), "strict": flag(strict)}

    # -- reads -----------------------------------------------------------------------------

    def search_images(
        self,
        q: str = "",
        page: int = 1,
        limit: int = 50,
        sort_by: str = "",
        order: str | None = None,
        fields: Sequence[str] = (),
    ) -> SearchPage:
        """`GET /imgs`: one page of images matching the `q` formula."""
        params: dict[str, Any] = {"q": q, "page": page, "limit": limit}
        if sort_by:
            params["sort_by"] = sort_by
        if order:
            params["order"] = order
        if fields:
            params["fields"] = list(fields)
        body = self._request("GET", "/imgs", params=params)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise WesogBadResponse("A search answer must hold a results list")
        facets = body.get("facets") or {}
        if not isinstance(facets, dict):
            raise WesogBadResponse("A search answer's facets must be an object")
        return SearchPage(
            results=tuple(Image.from_json(item) for item in capped(body["results"], limit)),
            count=search_count(body.get("count")),
            page=page,
            limit=limit,
            facets=facets,
        )

    def get_image(self, image_id: str, fields: Sequence[str] = ()) -> Image:
        """`GET /imgs/{id}`: one image (WesogNotFound when it does not exist)."""
        params = {"fields": list(fields)} if fields else None
        return Image.from_json(self._request("GET", image_path(image_id), params=params))

    def cancel_operation(self, op_id: int) -> CancelResult:
        """`DELETE /ops/{op_id}`: cancel a queued operation, if this API can (typed result)."""
        return cancel_result(lambda: self._request("DELETE", f"/ops/{int(op_id)}"), int(op_id))

    def get_operation(self, op_id: int) -> OperationSnapshot:
        """`GET /ops/{op_id}`: one operation's status (the body omits op_id, we add it)."""
        return OperationSnapshot.from_json(
            self._request("GET", f"/ops/{int(op_id)}"), op_id=int(op_id)
        )

    def list_operations(
        self, page: int | None = None, limit: int | None = None
    ) -> list[OperationSnapshot]:
        """`GET /ops`: the tenant's operations, newest first (one page when `page`/`limit`).

        The reference documents a bare array: an API that does not page answers every
        operation whatever `page`/`limit` say; `capabilities.ops_paged` tells which it is.
        """
        params = {k: v for k, v in (("page", page), ("limit", limit)) if v is not None}
        try:
            body = self._request("GET", "/ops", params=params or None)
        except WesogError:
            self.capabilities.ops_paged = None  # asked again at the next paged read
            raise
        if not isinstance(body, list):
            raise WesogBadResponse("GET /ops must answer a JSON array")
        if params:
            headers = getattr(self._last, "headers", None) or {}
            if "X-Total-Count" in headers:
                self.capabilities.ops_paged = True
            elif (limit is not None and len(body) > limit) or (page is not None and page > 1):
                self.capabilities.ops_paged = False
        return [OperationSnapshot.from_json(item) for item in body]

    # -- writes (never retried) ------------------------------------------------------------

    def delete_image(
        self,
        image_id: str,
        *,
        wait: bool = False,
        urgent: bool = False,
        strict: bool = False,
        timeout: float | None = None,
    ) -> OperationSnapshot:
        """`DELETE /imgs/{id}`: start (or with wait, run) the deletion of one image."""
        params = self._write_params(wait, urgent, strict)
        return self._write_op("DELETE", image_path(image_id), params, timeout=timeout)

    def delete_images(
        self,
        image_ids: Iterable[str],
        *,
        wait: bool = False,
        urgent: bool = False,
        strict: bool = False,
        timeout: float | None = None,
    ) -> OperationSnapshot:
        """`DELETE /imgs`: one operation deleting many images (body: a JSON array of ids)."""
        ids = list(image_ids)
        for image_id in ids:
            problem = image_id_problem(image_id)
            if problem:
                raise WesogValidationError(f"{image_id[:40]!r}: {problem}")
        params = self._write_params(wait, urgent, strict)
        return self._write_op("DELETE", "/imgs", params, json=ids, timeout=timeout)

    def add_images(
        self,
        images: Iterable[dict[str, Any]],
        *,
        wait: bool = False,
        urgent: bool = False,
        strict: bool = False,
        lang: str | None = None,
    ) -> OperationSnapshot:
        """`POST /imgs`: one operation adding many images (each dict has `id` and `src`)."""
        params = self._write_params(wait, urgent, strict)
        if lang:
            params["lang"] = lang
        return self._write_op("POST", "/imgs", params, json=list(images))


__all__ = ["WesogClient", "WesogError"]
