"""Spelling requests: image paths, boolean flags, route labels, connection-failure kinds."""

from __future__ import annotations

import re
from urllib.parse import quote

import requests

from .errors import WesogValidationError
from .ids import image_id_problem

_ID_SEGMENT = re.compile(r"^/(imgs|ops)/[^/]+")


def route_of(path: str) -> str:
    """`/ops/1234` → `/ops/{id}`: a label that does not grow with every id."""
    return _ID_SEGMENT.sub(lambda m: f"/{m.group(1)}/{{id}}", path)


def flag(value: bool) -> str:
    """A boolean query parameter as the API spells it."""
    return "true" if value else "false"


def image_path(image_id: str) -> str:
    """`/imgs/{id}` with the id checked and encoded as exactly one path segment."""
    problem = image_id_problem(image_id)
    if problem:
        raise WesogValidationError(problem)
    return "/imgs/" + quote(image_id, safe="")


def never_connected(exc: requests.ConnectionError) -> bool:
    """True when the error shows the connection was refused before anything was sent."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolution" in text
