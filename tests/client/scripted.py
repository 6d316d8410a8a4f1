"""A scripted HTTP server on 127.0.0.1 for the answers the sandbox does not give on purpose:
exact statuses, headers and bodies, stalls, dropped and reset connections, cut bodies.

Each request takes the next step of ``script``:

- ``(status, headers, body)``: that answer;
- ``"drop"``: read the request, close the socket without an answer;
- ``"reset"``: read the request, reset the connection (TCP RST);
- ``("stall", seconds)``: wait, then answer a queued job (too late for a short timeout);
- ``("partial", status, body)``: promise ``len(body) * 2`` bytes, send ``body``, close;
- ``("trickle", seconds, body)``: a 200 sending ``body`` one byte every ``seconds``.

An empty script answers ``200 {}``. ``routes`` maps a path to a step answered every time that
path is asked for, before the script (concurrent pollers ask in no fixed order).
``requests`` records ``(method, path, headers, body)``.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import LocalServer, QuietHandler, Stops
from videogen.client import VideoClient

KEY = "tgp_v1_very_secret_key_0123456789"
JOB = json.dumps({"id": "job-1", "status": "queued"}).encode()
CREATE = {"model": "google/veo-2.0", "prompt": "a red fox in snow"}


class Scripted(Stops):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """``host`` another loopback address (127.0.0.2…) and ``port`` a given one when a test
        needs two servers behind one host name and port (DNS rebinding)."""
        self.script: list[Any] = []
        self.routes: dict[str, Any] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.http = LocalServer(self._handler(), host, port)
        self.port = self.http.port
        self.url = self.http.url

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.requests]

    def stop(self) -> None:
        self.http.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                scripted.requests.append((self.command, self.path, headers, body))
                step = scripted.routes.get(self.path) or (
                    scripted.script.pop(0) if scripted.script else (200, {}, b"{}"))
                if step in ("drop", "reset"):
                    self.hang_up(reset=step == "reset")
                elif step[0] == "stall":
                    time.sleep(step[1])
                    self.send(200, {}, b'{"id": "late", "status": "queued"}')
                elif step[0] == "trickle":
                    self.trickle(*step[1:])
                elif step[0] == "partial":
                    self.send(step[1], {"content-length": str(len(step[2]) * 2)}, step[2])
                    self.hang_up()
                else:
                    self.send(*step)

            def send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                headers = {"content-length": str(len(body)), **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def trickle(self, seconds: float, body: bytes) -> None:
                self.send(200, {"content-length": str(len(body))}, b"")
                for byte in body:
                    time.sleep(seconds)
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the client gave up, as it should
                        return

            def hang_up(self, reset: bool = False) -> None:
                if reset:  # linger 0: close() sends RST instead of FIN
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            do_GET = do_POST = do_HEAD = answer

        return Handler


def client_for(url: str, **kwargs: Any) -> tuple[VideoClient, list[float]]:
    """A sync client whose sleeps are recorded instead of slept."""
    delays: list[float] = []
    kwargs.setdefault("api_key", KEY)
    return VideoClient(base_url=url, sleep=delays.append, **kwargs), delays


def back_after(seconds: float, port: int, script: list[Any]) -> list[Scripted]:
    """A provider that is down (connections refused on ``port``) and comes back after
    ``seconds``, answering ``script``. The list gets the server once it is up (to stop it)."""
    started: list[Scripted] = []

    def start() -> None:
        server = Scripted(port=port)
        server.script = script
        started.append(server)

    threading.Timer(seconds, start).start()
    return started
