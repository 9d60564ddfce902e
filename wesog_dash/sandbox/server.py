"""Running the sandbox over real HTTP: in a background thread (tests, dev) or blocking (CLI)."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_sandbox_app
from .settings import SandboxSettings
from .store import SandboxState


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (tests poll a lot)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the per-request access log line."""


class SandboxServer:
    """A sandbox app served by werkzeug's threaded server in a daemon thread."""

    def __init__(
        self, settings: SandboxSettings | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.host = host
        self.port = port
        self.app = create_sandbox_app(self.settings)
        self.state: SandboxState = self.app.extensions["wesog_sandbox"]
        self.url = ""
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> SandboxServer:
        """Bind (port 0 picks a free port), serve in the background and set `url`."""
        if self._server is not None:
            return self
        if self._stopped:
            raise RuntimeError("a stopped SandboxServer cannot be restarted; create a new one")
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        # A short poll interval makes stop() quick (the default 0.5 s would slow every test).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wesog-sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and stop the operation worker."""
        self._stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.state.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_standalone(host: str, port: int, settings: SandboxSettings) -> None:
    """Serve the sandbox in the foreground until interrupted (for a CLI command)."""
    app = create_sandbox_app(settings)
    server = make_server(host, port, app, threaded=True)
    print(f" * Wesog sandbox on http://{host}:{server.server_port} ({settings.images} images)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions["wesog_sandbox"].stop()
