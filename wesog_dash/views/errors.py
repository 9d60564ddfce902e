"""Error pages inside the console's frame: a plain title, what happened in a sentence, and a
way back, never the server's boilerplate. A view's own description (`abort(404,
description=…)`) is kept; Werkzeug's stock sentences are replaced by ours."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

# status -> (title, what to do). The title never repeats the status code.
ERROR_WORDS: dict[int, tuple[str, str]] = {
    400: (
        "This request could not be understood",
        "Something in the address or the form was not what the console expects. "
        "Go back, check what you typed, and try again.",
    ),
    403: (
        "You may not open this",
        "Your role does not allow it. An admin can change your role on the Users page.",
    ),
    404: (
        "Nothing here",
        "There is no page at this address: it may be mistyped, or what it showed is gone.",
    ),
    405: (
        "This address does not answer that way",
        "The page exists, but not for this kind of request (a form's address opened as a "
        "link, for instance). Open it from the menu instead.",
    ),
    413: (
        "Too much to send at once",
        "The form or file is larger than this console accepts ({limit}). Send a smaller file, "
        "or split the list.",
    ),
    429: ("Too many requests", "Wait a moment, then try again."),
    500: (
        "Something went wrong on our side",
        "The console met an error it did not expect; it is in the server's log. Try again, "
        "and tell an admin if it keeps happening.",
    ),
}
CSRF_WORDS = (
    "This form expired",
    "Its security token (CSRF) was missing or too old. Reload the page and send it again.",
)


@dataclass(frozen=True)
class ErrorView:
    """What an error page shows."""

    code: int
    title: str
    text: str
    back: str | None  # the page the reader came from, when it is one of ours


def megabytes(size: int | None) -> str:
    """ "16 MB" (or "64 KB"), or "a set size" when no limit is configured."""
    if not size:
        return "a set size"
    return f"{size // 1048576} MB" if size >= 1048576 else f"{max(1, size // 1024)} KB"


def describe(error: HTTPException) -> ErrorView:
    """The title and sentence of `error`: the view's own words, else ours, else Werkzeug's."""
    code = error.code or 500
    if isinstance(error, CSRFError):
        title, text = CSRF_WORDS
        return ErrorView(code, title, text, came_from())
    title, text = ERROR_WORDS.get(code, (error.name, error.description or ""))
    own = error.description and error.description != type(error).description
    if own and code != 500:  # a 500's details stay in the log
        text = str(error.description)
    limit = megabytes(current_app.config.get("MAX_CONTENT_LENGTH"))
    return ErrorView(code, title, text.replace("{limit}", limit), came_from())


def came_from() -> str | None:
    """The referring page, when it is a page of this console (and not this very one)."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if not referrer or parts.netloc != request.host or parts.path == request.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
