"""``SandboxServer``: the local stand-in for Together's video API, over real HTTP.

Standard library only: a ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive, one thread per
connection. Job state is computed from timestamps and clips render on their own small pool, so
request threads never wait for each other.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from http.server import ThreadingHTTPServer
from typing import Any

from .faults import Fault, FaultError, FaultPlan, parse_many
from .jobs import Job, JobStore
from .render import RenderCache, require_av
from .shapes import SHAPES
from .stats import Stats, fingerprint

PLACEHOLDER_KEY = "sandbox-key"


@dataclass(frozen=True)
class SandboxConfig:
    """Settings that can change while the server runs (``configure()``, ``/_sandbox/config``).

    ``time_scale`` multiplies every simulated duration (0 = jobs finish at once; applies to jobs
    created afterwards). ``api_key`` None accepts any non-empty key. ``url_ttl`` is how long a
    download URL works after the job completed. ``pad_to_bytes`` makes downloads that large.
    ``public_url`` replaces the scheme://host:port put into ``video_url``."""

    time_scale: float = 1.0
    shape: str = "sdk"
    api_key: str | None = None
    url_ttl: float = 3600.0
    pad_to_bytes: int | None = None
    public_url: str | None = None

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {self.shape!r}")
        if self.time_scale < 0 or self.url_ttl < 0:
            raise ValueError("time_scale and url_ttl must not be negative")
        if self.pad_to_bytes is not None and self.pad_to_bytes < 0:
            raise ValueError("pad_to_bytes must not be negative")

    def changed(self, **changes: Any) -> SandboxConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
        return replace(self, **changes)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog (5) resets connections when a benchmark opens 64+ at once.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        from .handler import SandboxHandler

        self.sandbox = sandbox
        super().__init__(address, SandboxHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout, a dropped connection) is not a server error:
        # no traceback on stderr for it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A running sandbox. ``with SandboxServer(time_scale=0.01) as sb: ...`` starts it on a free
    port in a background thread and stops it (and deletes its rendered files) at the end.

    ``faults`` are rules in text form or ``Fault`` objects, active from the start and restored
    by ``reset()``. ``seed`` seeds the random draws of ``rate`` rules."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, time_scale: float = 1.0,
                 shape: str = "sdk", api_key: str | None = None, url_ttl: float = 3600.0,
                 pad_to_bytes: int | None = None, public_url: str | None = None,
                 faults: Iterable[str | Fault] = (), seed: int = 0, render_workers: int = 2,
                 verbose: bool = False) -> None:
        self.initial_config = SandboxConfig(time_scale=time_scale, shape=shape, api_key=api_key,
                                            url_ttl=url_ttl, pad_to_bytes=pad_to_bytes,
                                            public_url=public_url)
        self.config = self.initial_config
        self.initial_faults = _fault_rules(faults)
        self.seed = seed
        self.faults = FaultPlan(seed)
        self.stats_counter = Stats()
        self.store = JobStore()
        self.verbose = verbose
        self._address = (host, port)
        self._render_workers = render_workers
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._directory: str | None = None
        self.renders: RenderCache | None = None
        self._install_faults()

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind and serve in a background thread; returns self."""
        self._open()
        assert self._httpd is not None
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={
            "poll_interval": 0.1}, name="videogen-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[SandboxServer], None] | None = None) -> None:
        """Serve in this thread until interrupted (the CLI); ``ready`` is called once bound."""
        self._open()
        assert self._httpd is not None
        if ready is not None:
            ready(self)
        try:
            self._httpd.serve_forever(poll_interval=0.25)
        finally:
            self.stop()

    def _open(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the sandbox is already running")
        require_av()  # before binding: a clear MediaMissing, not a crash at the first download
        httpd = _HTTPServer(self._address, self)  # bind first: nothing to undo if it fails
        self._directory = tempfile.mkdtemp(prefix="videogen-sandbox-")
        self.renders = RenderCache(self._directory, workers=self._render_workers)
        self._httpd = httpd

    def stop(self) -> None:
        """Stop serving, close open connections, delete the rendered files."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None:
            httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        httpd.server_close()
        self._close_connections()
        if self.renders is not None:
            self.renders.close()
        if self._directory:
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._bound()[0]

    @property
    def port(self) -> int:
        return self._bound()[1]

    @property
    def url(self) -> str:
        """The base URL, like ``https://api.together.ai``: set ``VIDEOGEN["BASE_URL"]`` to it."""
        host = self.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    @property
    def v2_url(self) -> str:
        """The base URL for SDKs that call ``{base}/videos`` (TypeScript, Go, together-py 2)."""
        return f"{self.url}/v2"

    @property
    def api_key(self) -> str:
        """The key to send: the configured one, or a placeholder (any key is accepted then)."""
        return self.config.api_key or PLACEHOLDER_KEY

    def _bound(self) -> tuple[str, int]:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() or use 'with'")
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    # --- control -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters: requests per route, responses per status, faults per kind, jobs created
        per request fingerprint, bytes sent, connections, and the shortest gap between two
        GETs of one job."""
        gaps = [job.min_retrieve_gap for job in self.store.all()
                if job.min_retrieve_gap is not None]
        return {**self.stats_counter.snapshot(),
                "retrieve_min_gap": round(min(gaps), 3) if gaps else None}

    def creates_for(self, body: dict[str, Any]) -> int:
        """How many jobs were created from this exact create body."""
        return self.stats_counter.creates.get(fingerprint(body), 0)

    def jobs(self) -> list[Job]:
        return self.store.all()

    def job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def advance(self, job_id: str | None = None, to: str = "completed") -> int:
        """Make one job (or every job) reach ``to`` ("in_progress" or "completed"; a job set
        to fail fails) now. Returns how many jobs were advanced."""
        if to not in ("in_progress", "completed"):
            raise ValueError("to must be 'in_progress' or 'completed'")
        jobs = [self.job(job_id)] if job_id else self.store.all()
        for job in jobs:
            job.advance(to)
        return len(jobs)

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings while running (``time_scale``, ``shape``, ``api_key``, ``url_ttl``,
        ``pad_to_bytes``, ``public_url``); ``reset()`` restores the constructor's."""
        self.config = self.config.changed(**changes)
        return self.config

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def reset(self) -> None:
        """Forget jobs, counters and faults; restore the constructor's settings and faults.
        Rendered clips stay cached (they depend only on the request)."""
        self.store.clear()
        self.stats_counter.reset()
        self.config = self.initial_config
        self.faults.reset(self.seed)
        self._install_faults()

    def _install_faults(self) -> None:
        for rule in self.initial_faults:
            self.faults.add_rule(replace(rule))

    # --- connections (so stop() does not leave keep-alive threads behind) --------------------

    def track(self, connection: socket.socket, opened: bool) -> None:
        with self._connections_lock:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)
        self.stats_counter.connection(opened)

    def _close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _fault_rules(faults: Iterable[str | Fault]) -> list[Fault]:
    rules: list[Fault] = []
    for item in faults:
        if isinstance(item, Fault):
            rules.append(item)
        elif isinstance(item, str):
            rules.extend(parse_many(item))
        else:
            raise FaultError(f"a fault is a Fault or its text form, got {item!r}")
    return rules
