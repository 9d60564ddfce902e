"""Embedded Wesog sandbox: a local, in-memory simulator of the Wesog image-search REST API."""

from .app import create_sandbox_app
from .server import SandboxServer, run_standalone
from .settings import SandboxSettings
from .store import SandboxState

__all__ = [
    "SandboxServer",
    "SandboxSettings",
    "SandboxState",
    "create_sandbox_app",
    "run_standalone",
]
