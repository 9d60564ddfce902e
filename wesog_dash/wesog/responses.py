"""Reading the API's answers: error bodies (FastAPI `detail`), Retry-After, typed errors."""

from __future__ import annotations

import json

import requests

from .errors import (
    WesogAuthError,
    WesogBadResponse,
    WesogNotFound,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)


def detail_message(response: requests.Response) -> str:
    """The human message of an error body: FastAPI `detail` as string or list, else text."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:500]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for entry in detail:
            if isinstance(entry, dict):
                where = ".".join(str(p) for p in entry.get("loc", []) if p not in ("body",))
                msg = str(entry.get("msg", ""))
                parts.append(f"{where}: {msg}" if where else msg)
            else:
                parts.append(str(entry))
        return "; ".join(parts)
    return json.dumps(body)[:500]


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def raise_for_error(response: requests.Response) -> None:
    """Turn an error status into the matching typed exception."""
    status = response.status_code
    if status < 400:
        return
    message = detail_message(response) or f"HTTP {status}"
    if status in (401, 403):
        raise WesogAuthError(f"The Wesog API refused the API key: {message}", status)
    if status == 404:
        raise WesogNotFound(message, status)
    if status in (400, 409, 422):
        raise WesogValidationError(message, status)
    if status == 429:
        raise WesogRateLimited(f"Rate limited: {message}", retry_after_seconds(response))
    if status >= 500:
        raise WesogUnavailable(f"The Wesog API failed (HTTP {status}): {message}", status)
    raise WesogBadResponse(f"Unexpected HTTP {status}: {message}", status)
