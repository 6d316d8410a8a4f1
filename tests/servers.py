"""Real HTTP servers on 127.0.0.1 for the tests (webhook receivers, a scripted provider, a
recorder of requests), a free port, and waiting for a condition."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a poll round's 31 connections at once
    # overflowed it, and a dropped handshake left one GET waiting out its read timeout.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a stalled or endless answer is expected here


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of access logs."""

    def log_message(self, *args: Any) -> None:
        pass


class Stops:
    """``with Server() as server:`` stops it at the end (a fixture's ``yield`` inside)."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        raise NotImplementedError


class LocalServer(Stops):
    """``handler`` (a request handler class) served on ``host``:``port`` (a free one by
    default) from a daemon thread until :meth:`stop`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1",
                 port: int = 0, path: str = "") -> None:
        self.server = _Server((host, port), handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float = 90.0, what: str = "condition",
             every: float = 0.25) -> float:
    """Seconds it took ``condition()`` to become true; AssertionError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
