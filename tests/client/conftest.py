"""A scripted HTTP server on 127.0.0.1 for answers the sandbox does not give on purpose:
exact statuses, headers, bodies, stalls and dropped connections."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Scripted:
    """Answers requests from a list of (status, headers, body) or "drop" / ("stall", s)."""

    def __init__(self):
        self.script = []
        self.requests = []  # (method, path, headers)
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self):
                length = int(self.headers.get("content-length", 0) or 0)
                self.rfile.read(length)
                scripted.requests.append((self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}))
                step = scripted.script.pop(0) if scripted.script else (200, {}, b"{}")
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(step, tuple) and step[0] == "stall":
                    time.sleep(step[1])
                    step = (200, {}, b'{"id": "late", "status": "queued"}')
                status, headers, body = step
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def scripted():
    server = Scripted()
    yield server
    server.server.shutdown()
    server.server.server_close()
