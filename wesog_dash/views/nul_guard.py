"""Refuse a request that carries a NUL character (400) before any view runs.

Nothing the console takes means anything with a NUL in it, and PostgreSQL can neither store
text holding one nor compare with it (psycopg refuses such a parameter: a 500), where SQLite
quietly accepts it. Refusing it at the door makes both engines answer alike, on every route.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    """True when `value`, or any string inside it (JSON lists and objects), holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def refuse_nul() -> None:
    """Before each request: 400 when the path, the query, the form or the JSON holds a NUL."""
    found: list[Any] = [request.path, *request.args.listvalues()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        found += request.form.listvalues()
    if request.is_json:
        found.append(request.get_json(silent=True))
    if any(holds_nul(value) for value in found):
        abort(400, description="A NUL character is not allowed in any field.")


def init_app(app: Flask) -> None:
    """Install the check in front of every view."""
    app.before_request(refuse_nul)
