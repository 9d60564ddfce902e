"""Refuse (400) requests that are malformed before any view, or the trusted-host check, reads
them: an HTTP/1.1 request without `Host` (RFC 9112 §3.2), and a query string or form body
whose percent-escapes are not UTF-8 (Werkzeug would hand the view the literal `%FF%FE`).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request

FORM = "application/x-www-form-urlencoded"


def is_utf8(encoded: bytes) -> bool:
    """True when an `application/x-www-form-urlencoded` text decodes as UTF-8."""
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refuse_malformed() -> None:
    """Before each request: 400 without a Host header, or with text that is not UTF-8."""
    environ = request.environ
    if environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and not environ.get("HTTP_HOST"):
        abort(400, description="An HTTP/1.1 request must carry a Host header.")
    if not is_utf8(request.query_string):
        abort(400, description="The query string is not UTF-8.")
    # get_data caches the body: the form is parsed from the same bytes afterwards.
    if request.mimetype == FORM and not is_utf8(request.get_data(parse_form_data=False)):
        abort(400, description="The form is not UTF-8.")


def init_app(app: Flask) -> None:
    """Install the check in front of every view (and of the NUL check, which reads the form)."""
    app.before_request(refuse_malformed)
