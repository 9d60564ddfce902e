"""Fixtures shared by the audit tests."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions


@pytest.fixture
def viewer(auth: AuthActions) -> None:
    """Log in as a viewer (two events: user.created, login.succeeded)."""
    auth.login("viewer")
