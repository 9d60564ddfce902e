"""Who may do what: role checks for views, and the read-only switch."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user

from ..config import settings

F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: str) -> Callable[[F], F]:
    """Let the view run only for a logged-in, active user with `role` or above.

    Under /api/v1 the user comes from a Bearer token (views/api.py sets it for the request;
    cookies are ignored there), so the same decorator guards pages, fragments and the API.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.has_role(role):
                abort(403, description=f"This needs the {role} role (you are {current_user.role}).")
            return view(*args, **kwargs)

        # Read by the authorization-matrix test: each view declares the role it needs.
        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def read_only() -> bool:
    """True when WESOG_READ_ONLY turns every destructive action off."""
    return settings().read_only


def destructive(view: F) -> F:
    """Refuse the view with 403 while the console is read-only."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if read_only():
            abort(403, description="This console is read-only (WESOG_READ_ONLY is set).")
        return view(*args, **kwargs)

    wrapped.is_destructive = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def can(role: str) -> bool:
    """Template helper: may the current user act with `role`?"""
    return bool(current_user.is_authenticated and current_user.has_role(role))
