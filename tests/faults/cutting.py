"""A TCP proxy in front of the test's PostgreSQL that a test can cut and restore: cutting
closes every connection through it and refuses new ones, as a database restart does, without
touching the server the other tests share."""

from __future__ import annotations

import contextlib
import socket
import threading


class CutProxy:
    """127.0.0.1:<port> → target, until `cut()`; `restore()` listens on the same port again."""

    def __init__(self) -> None:
        self.target: tuple[str, int] = ("127.0.0.1", 5432)
        self.port = 0
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None

    def start(self, target: tuple[str, int]) -> int:
        """Listen (on a free port the first time); returns the port."""
        self.target = target
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self.port

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        if self.listener is not None:
            with contextlib.suppress(OSError):  # wakes the accept() blocked on it (Linux)
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            open_ones, self.sockets = self.sockets, set()
        for end in open_ones:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self.start(self.target)
