"""Fixtures for the sandbox tests: a real sandbox server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.sandbox.support import Api
from wesog_dash.sandbox import SandboxServer, SandboxSettings

API_KEY = "sandbox-test-key"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A started sandbox with quick operations (20 ms per element, 20 ms start delay)."""
    settings = SandboxSettings(api_key=API_KEY, images=500, item_ms=20, start_ms=20)
    sandbox = SandboxServer(settings, port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session that sends the sandbox's API key."""
    with requests.Session() as session:
        session.headers["API-Key"] = API_KEY
        yield session


@pytest.fixture
def api(server: SandboxServer, http: requests.Session) -> Api:
    """Helper bound to the test's sandbox."""
    return Api(server, http)
