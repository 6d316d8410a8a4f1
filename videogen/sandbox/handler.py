"""HTTP plumbing: routes, reading bodies, applying faults, sending replies and downloads."""

from __future__ import annotations

import re
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from . import api, control
from .api import Reply, error_reply
from .downloads import DownloadBody, RangeNotSatisfiable, download_body, parse_range
from .faults import Fault, FaultError, RequestFaults

if TYPE_CHECKING:
    from .server import SandboxServer, _HTTPServer

MAX_BODY = 64 * 1024 * 1024  # base64 keyframes make bodies large, but not this large
RENDER_TIMEOUT = 600.0
_VIDEOS = re.compile(r"^(?:/v2)?/videos(?:/(?P<id>[^/]+))?/?$")
_DOWNLOAD = re.compile(r"^/shrt/(?P<token>[A-Za-z0-9_-]+)$")
FAULTY_ROUTES = ("create", "retrieve", "download")


def route_of(method: str, path: str, query: str) -> tuple[str, str | None]:
    """(route name, argument): create, retrieve (job id), download (token), control (name),
    not_allowed or not_found."""
    if path.startswith("/_sandbox/"):
        return "control", path.removeprefix("/_sandbox/")
    if match := _DOWNLOAD.match(path):
        return ("download" if method in ("GET", "HEAD") else "not_allowed"), match["token"]
    match = _VIDEOS.match(path)
    if match is None:
        return "not_found", None
    job_id = match["id"]
    if job_id is None:
        return ("create" if method == "POST" else "not_allowed"), None
    if method not in ("GET", "HEAD"):
        return "not_allowed", None
    if job_id == "status":  # the older spec: GET /v2/videos/status?id=<id>
        return "retrieve", (parse_qs(query).get("id") or [""])[0]
    return "retrieve", job_id


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every reply carries a Content-Length
    server_version = "videogen-sandbox/1"
    sys_version = ""
    disable_nagle_algorithm = True  # small JSON replies must not wait for delayed ACKs
    timeout = 300  # idle keep-alive connections are closed after this
    server: _HTTPServer

    @property
    def sandbox(self) -> SandboxServer:
        return self.server.sandbox

    def setup(self) -> None:
        super().setup()
        self.sandbox.track(self.connection, opened=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sandbox.track(self.connection, opened=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.sandbox.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = do_GET

    # --- one request -------------------------------------------------------------------------

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        route, argument = route_of(self.command, path, query)
        body = self._read_body()
        if body is None:
            return
        self.sandbox.stats_counter.request(route)
        if route == "control":
            self._send(control.handle(self.sandbox, self.command, argument or "", body,
                                      self.headers))
            return
        try:
            faults = RequestFaults(self.sandbox.faults, self.headers.get("X-Sandbox-Fault"))
        except FaultError as error:
            self._send(error_reply(400, f"X-Sandbox-Fault: {error}", code="invalid_fault"))
            return
        if route in FAULTY_ROUTES and self._before(faults, route):
            return
        if route == "download":
            self._download(argument or "", faults)
            return
        reply = self._api(route, argument, body, faults)
        after = faults.first("after", route) if 200 <= reply.status < 300 else None
        if after is None:
            self._send(reply)
        elif after.kind == "lost_response":
            self._count(after)
            self._drop()
        else:
            self._count(after)
            self._send(api.malformed(reply))

    def _before(self, faults: RequestFaults, route: str) -> bool:
        """Apply latency, then an ``error``/``rate_limit``/``drop`` fault; True when one fired."""
        delay = 0.0
        for delayed in faults.take("delay", route):
            self._count(delayed)
            delay += delayed.ms / 1000
        if delay:
            time.sleep(delay)
        fault = faults.first("before", route)
        if fault is None:
            return False
        self._count(fault)
        if fault.kind == "drop":
            self._drop()
        else:
            self._send(api.fault_reply(fault))
        return True

    def _api(self, route: str, argument: str | None, body: bytes,
             faults: RequestFaults) -> Reply:
        if route == "not_found":
            return error_reply(404, f"Unknown path {self.command} {self.path}", code="not_found")
        if route == "not_allowed":
            return error_reply(405, f"Method {self.command} not allowed on {self.path}",
                               code="method_not_allowed")
        refused = api.check_auth(self.sandbox, self.headers.get("Authorization"))
        if refused is not None:
            return refused
        if route == "create":
            return api.create(self.sandbox, body, faults, base_url=self._base_url(),
                              pad_to_bytes=self._pad_header())
        return api.retrieve(self.sandbox, argument, base_url=self._base_url())

    # --- downloads ---------------------------------------------------------------------------

    def _download(self, token: str, faults: RequestFaults) -> None:
        job = self.sandbox.store.by_token(token)
        if job is None or job.status() != "completed":
            self._send(error_reply(404, "Not found.", code="not_found"))
            return
        fault = faults.first("download", "download")
        if fault is not None:
            self._count(fault)
        if job.url_expired() or (fault is not None and fault.kind == "expire"):
            self._send(error_reply(403, "This video URL has expired.", code="url_expired"))
            return
        assert self.sandbox.renders is not None
        try:
            path = self.sandbox.renders.get(job.render).result(timeout=RENDER_TIMEOUT)
        except Exception as error:
            # Whatever PyAV raised, the client gets a provider-style 500, not a dead socket.
            self._send(error_reply(500, f"Rendering failed: {error}", type_="server_error"))
            return
        body = download_body(path, job.render.output_format, job.pad_to_bytes)
        self._send_file(body, job.render.content_type, job.render.key(), fault)

    def _send_file(self, body: DownloadBody, content_type: str, etag: str,
                   fault: Fault | None) -> None:
        try:
            byte_range = parse_range(self.headers.get("Range"), body.total)
        except RangeNotSatisfiable:
            reply = error_reply(416, "Requested range not satisfiable.", code="invalid_range")
            reply.headers["Content-Range"] = f"bytes */{body.total}"
            self._send(reply)
            return
        start, stop = byte_range or (0, body.total)
        status = 206 if byte_range else 200
        self.sandbox.stats_counter.response(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(stop - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{etag}-{body.total}"')
        if byte_range:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{body.total}")
        self.end_headers()
        if self.command == "HEAD":
            return
        kind = fault.kind if fault is not None else None
        if fault is not None and kind == "truncate":
            # Content-Length promised ``stop - start`` bytes; send fewer and hang up.
            cut = fault.bytes if fault.bytes is not None else (stop - start) // 2
            stop = start + max(0, min(cut, stop - start - 1))
            self.close_connection = True
        if fault is not None and kind == "trickle":
            self._trickle(body, start, stop, (fault.ms or 1000) / 1000)
            return
        self._stream(body, start, stop, zeroed=kind == "corrupt")

    def _trickle(self, body: DownloadBody, start: int, stop: int, pause: float) -> None:
        """One byte at a time, ``pause`` seconds apart, until the client hangs up."""
        try:
            for chunk in body.chunks(start, stop):
                for byte in range(len(chunk)):
                    self.wfile.write(chunk[byte:byte + 1])
                    self.wfile.flush()
                    self.sandbox.stats_counter.sent(1)
                    time.sleep(pause)
        except OSError:
            self.close_connection = True  # the client went away

    def _stream(self, body: DownloadBody, start: int, stop: int, zeroed: bool = False) -> None:
        try:
            for chunk in body.chunks(start, stop):
                self.sandbox.stats_counter.sent(len(chunk))
                self.wfile.write(bytes(len(chunk)) if zeroed else chunk)
        except OSError:
            self.close_connection = True  # the client went away

    # --- helpers -----------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(error_reply(411, "Send a Content-Length.", code="length_required"))
            self.close_connection = True
            return None
        text = self.headers.get("Content-Length") or "0"
        length = int(text) if text.isdigit() else -1
        if length < 0:
            self._send(error_reply(400, "Bad Content-Length.", code="invalid_request"))
            self.close_connection = True
            return None
        if length > MAX_BODY:
            self._send(error_reply(413, "Request body too large.", code="payload_too_large"))
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        data = reply.body()
        # Counted before sending: a client that has its answer must see it in the stats.
        self.sandbox.stats_counter.response(reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self) -> None:
        """Close the socket without a byte of answer (the client sees a dropped connection)."""
        self.close_connection = True
        self.sandbox.stats_counter.response("dropped")

    def _count(self, fault: Fault) -> None:
        self.sandbox.stats_counter.fault(fault.kind)

    def _base_url(self) -> str:
        if self.sandbox.config.public_url:
            return self.sandbox.config.public_url.rstrip("/")
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.sandbox.url

    def _pad_header(self) -> int | None:
        value = self.headers.get("X-Sandbox-Pad-To-Bytes")
        return int(value) if value and value.isdigit() else None
