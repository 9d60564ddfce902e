"""Typed errors for everything that can go wrong talking to the Wesog API."""

from __future__ import annotations


class WesogError(Exception):
    """Base of every upstream error; `message` is safe to show to a user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class WesogAuthError(WesogError):
    """The API refused our key (401/403)."""


class WesogNotFound(WesogError):
    """The image or operation does not exist (404)."""


class WesogValidationError(WesogError):
    """The API (or our own pre-flight check) rejected the request data (422/400)."""


class WesogRateLimited(WesogError):
    """Too many requests (429); `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, 429)
        self.retry_after = retry_after


class WesogUnavailable(WesogError):
    """The API could not be reached or answered 5xx; the request was not carried out."""


class WesogOutcomeUnknown(WesogUnavailable):
    """A write was sent but no answer came back: it may or may not have happened."""


class WesogBadResponse(WesogError):
    """The API answered something we cannot read."""
