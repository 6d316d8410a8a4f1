"""The httpx clients for the provider API: ``VideoClient`` (sync) and ``AsyncVideoClient``.

Both share :class:`_Core`: URLs, headers, response parsing, error mapping and the retry policy
are written once; only the I/O loop differs.

Retry policy (see docs/client.md):

- ``retrieve`` and ``download`` retry connect errors, timeouts, dropped connections and 408, 409,
  429 and 5xx answers, with exponential backoff and jitter, honouring ``x-should-retry``,
  ``retry-after-ms`` and ``Retry-After`` (seconds or an HTTP date, used when above 0; a wait over
  60 s is not waited for but raised, e.g. as ``RateLimited``, with ``retry_after``).
- ``create`` is **never retried once the request may have reached the server**: the API has no
  idempotency key and a blind retry can create and bill a second job. Only a connect failure
  (nothing was sent) and an explicit 429 or 503 refusal are retried. A timeout or a dropped
  connection after sending raises :class:`SubmissionOutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import itertools
import json
import logging
import math
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import certifi
import httpx
import pydantic

from videogen.client import errors
from videogen.client.redact import Redactor
from videogen.client.schemas import CreateVideoRequest, RemoteJob
from videogen.version import __version__

logger = logging.getLogger("videogen.client")

DEFAULT_BASE_URL = "https://api.together.ai"
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# A create refused with these never started a job, so sending it again is safe.
CREATE_RETRY_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 60.0
# Redirects a guarded download follows (httpx's own limit for unguarded ones is 20).
MAX_REDIRECTS = 10


class Target(Protocol):
    """Where a guarded request goes instead of its URL: the URL with the address the guard
    checked, and the headers (Host) and httpx request extensions (TLS server name) that keep
    it the same request. So no second DNS lookup decides where it connects (rebinding)."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


#: Called with each URL a guarded download is about to request; raises to refuse it, and may
#: return the :class:`Target` to send it to.
Guard = Callable[[str], "Target | None"]
BACKOFF_START = 0.5
BACKOFF_CAP = 8.0
#: ``code`` of the error a create raises when the provider could not be reached at all.
UNREACHABLE = "provider_unreachable"
#: The largest API answer (not download) read; the default of ``max_response_bytes``.
MAX_RESPONSE_BYTES = 1024 * 1024


class _Core:
    """Everything but the I/O: configuration, requests, answers, retry decisions."""

    def __init__(self, *, api_key: str | None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = 60.0, connect_timeout: float = 5.0, max_retries: int = 2,
                 user_agent: str | None = None, connect_retry_seconds: float = 0.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        if api_key and not _header_safe(api_key):
            # Checked here, because httpx's encoding error would carry the key with it.
            raise ValueError("api_key must be printable ASCII without spaces")
        self._api_key = api_key or ""
        self._redactor = Redactor(self._api_key)
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.max_retries = max_retries
        # A create that never reached the provider is sent again for this long (not only
        # max_retries times): an outage of a few seconds must not fail a job.
        self.connect_retry_seconds = connect_retry_seconds
        # An API answer is a small JSON document: a huge one is refused, not held in memory.
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent or f"videogen/{__version__} httpx/{httpx.__version__}"
        path = urlsplit(self.base_url).path.rstrip("/")
        # SDKs differ: some take a base ending in /v2 and append /videos.
        self.videos_url = f"{self.base_url}/videos" if path.endswith("/v2") \
            else f"{self.base_url}/v2/videos"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # --- requests ---------------------------------------------------------------------------

    def headers(self, url: str | None = None) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if self._api_key and (url is None or same_origin(url, self.base_url)):
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def job_url(self, job_id: str) -> str:
        # Quoted whole, so an id cannot add a path segment or a query string.
        if not isinstance(job_id, str) or job_id.strip(".") == "":
            raise errors.BadRequest(f"invalid job id {job_id!r}", param="id")
        return f"{self.videos_url}/{quote(job_id, safe='')}"

    def create_body(self, request: CreateVideoRequest | Mapping[str, Any]) -> dict[str, Any]:
        """The JSON to send; a dict that is no valid request is refused before sending."""
        if isinstance(request, CreateVideoRequest):
            return request.to_wire()
        try:
            return CreateVideoRequest.model_validate(dict(request)).to_wire()
        except pydantic.ValidationError as error:
            problems = error.errors()
            raise errors.BadRequest(
                "invalid create request: " + "; ".join(
                    f"{_dotted(p['loc'])}: {p['msg']}" for p in problems),
                param=_dotted(problems[0]["loc"]), code="invalid_request") from None

    def build(self, http: httpx.Client | httpx.AsyncClient, method: str, url: str,
              json: Any, target: Target | None = None) -> httpx.Request:
        try:
            if target is None:
                return http.build_request(method, url, json=json, headers=self.headers(url))
            # The key's origin check stays on the URL as written, not the pinned address.
            return http.build_request(method, target.url, json=json,
                                      headers={**self.headers(url), **target.headers},
                                      extensions=dict(target.extensions))
        except httpx.InvalidURL:
            # Not echoed: a download URL is a signed link.
            raise errors.BadRequest("invalid URL", param="url") from None

    # --- guarded downloads ----------------------------------------------------------------

    @staticmethod
    def next_hop(url: str, response: httpx.Response, guard: Guard) -> tuple[str, Target | None]:
        """The redirect's URL (relative to ``url``, the one as written: the response's may be
        a pinned address) and where ``guard`` sends it."""
        hop = str(httpx.URL(url).join(response.headers["location"]))
        return hop, guard(hop)

    @staticmethod
    def refuse_more_hops(response: httpx.Response, guard: Guard | None) -> None:
        if guard is not None and response.has_redirect_location:
            raise errors.InvalidResponse(
                f"the download redirected more than {MAX_REDIRECTS} times",
                status_code=response.status_code)

    # --- answers ----------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """Text fit for a log or an exception: no piece of the API key, no URL query string."""
        return self._redactor.message(text)

    def error(self, response: httpx.Response, body: bytes) -> errors.VideoAPIError:
        error = errors.from_response(response.status_code, response.headers, body,
                                     retry_after=retry_after(response.headers))
        # Every field the provider filled may echo the key (param and code too).
        error.message = self.scrub(error.message)
        for name in ("code", "type", "param", "request_id"):
            value = getattr(error, name)
            setattr(error, name, value and self._redactor.text(value))
        error.rate_limit = {name: self._redactor.text(value)
                            for name, value in error.rate_limit.items()}
        error.args = (error.message,)
        return error

    def job(self, response: httpx.Response, body: bytes) -> RemoteJob:
        try:
            # The key is removed where the answer enters: nothing stored, shown or sent
            # later can hold it.
            return RemoteJob.from_payload(self._redactor.data(json.loads(body)))
        except (ValueError, TypeError, OverflowError, RecursionError) as problem:
            excerpt = body[:200].decode("utf-8", "replace")
            raise errors.InvalidResponse(
                self.scrub(f"unexpected answer from the video API ({problem}): {excerpt!r}"),
                status_code=response.status_code) from None

    def transport_error(self, error: httpx.HTTPError, *, create_body: dict[str, Any] | None,
                        elapsed: float = 0.0) -> errors.VideoAPIError:
        """Map an httpx failure; for a create, anything after sending is 'outcome unknown'."""
        message = self.scrub(f"{type(error).__name__}: {error}")
        sent = not never_sent(error)
        if create_body is not None and sent:
            logger.warning("POST %s: %s after sending; not retried (no idempotency key), the "
                           "job may exist at the provider", urlsplit(self.videos_url).path,
                           type(error).__name__)
            return errors.SubmissionOutcomeUnknown(message, request_body=create_body)
        if isinstance(error, httpx.TimeoutException) and sent:
            return errors.APITimeout(message)
        if create_body is not None:
            return errors.APIConnectionError(
                f"could not connect to the video API for {elapsed:.0f} s; nothing was sent "
                f"({message})", request_sent=False, code=UNREACHABLE)
        return errors.APIConnectionError(message, request_sent=sent)

    def body_reader(self, response: httpx.Response) -> _Body:
        """Collects an answer's body within ``max_response_bytes`` and ``timeout``."""
        whole = response.status_code < 400
        declared = response.headers.get("content-length", "")
        if whole and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_large(response)
        return _Body(self, response, whole)

    def _too_large(self, response: httpx.Response) -> errors.InvalidResponse:
        return errors.InvalidResponse(
            f"the video API's answer is larger than {self.max_response_bytes} bytes "
            f"(VIDEOGEN MAX_RESPONSE_BYTES); not read", status_code=response.status_code)

    # --- retries ----------------------------------------------------------------------------

    def retry_delay(self, attempt: int, *, create: bool, response: httpx.Response | None = None,
                    error: httpx.HTTPError | None = None, elapsed: float = 0.0) -> float | None:
        """Seconds to wait before retry ``attempt`` (1-based), or None: do not retry.
        ``elapsed``: seconds since the first attempt."""
        if error is not None and create and never_sent(error):
            delay = backoff(attempt)
            within = elapsed + delay <= self.connect_retry_seconds
            return delay if attempt <= self.max_retries or within else None
        if attempt > self.max_retries:
            return None
        if error is not None:
            return backoff(attempt) if not create and isinstance(error, httpx.TransportError) \
                else None
        assert response is not None
        return self._status_delay(attempt, response, create)

    def _status_delay(self, attempt: int, response: httpx.Response, create: bool
                      ) -> float | None:
        status = response.status_code
        should = response.headers.get("x-should-retry", "").lower()
        allowed = CREATE_RETRY_STATUSES if create else RETRY_STATUSES
        # x-should-retry overrides the status table, except that a create is never forced.
        if should == "false" or (status not in allowed and (should != "true" or create)):
            return None
        wait = retry_after(response.headers)
        if wait is not None and wait > MAX_RETRY_AFTER:
            return None  # the caller's schedule waits that long, not this call
        return wait if wait is not None and wait > 0 else backoff(attempt)

    def next_delay(self, attempt: int, request: httpx.Request, *,
                   response: httpx.Response | None = None, body: bytes = b"",
                   error: httpx.HTTPError | None = None,
                   create_body: dict[str, Any] | None = None, elapsed: float = 0.0) -> float:
        """The wait before the next attempt; raises the mapped error when there is none."""
        delay = self.retry_delay(attempt, create=create_body is not None, response=response,
                                 error=error, elapsed=elapsed)
        if delay is None:
            if error is not None:
                raise self.transport_error(error, create_body=create_body,
                                           elapsed=elapsed) from None
            assert response is not None
            raise self.error(response, body)
        reason = f"HTTP {response.status_code}" if response is not None \
            else type(error).__name__
        logger.info("%s %s: retry %d/%d in %.2fs after %s", request.method,
                    self._where(request.url), attempt, self.max_retries, delay, reason)
        return delay

    def _where(self, url: httpx.URL) -> str:
        """A URL fit for a log: API paths in full, downloads by host (their path is a token)."""
        if str(url).startswith(self.videos_url):
            return url.path
        return f"download from {url.host}"


class _Body:
    """At most ``max_response_bytes`` of an answer, arrived within ``timeout`` in all (a
    trickle of bytes never trips a read timeout). An answer that must be whole (a job) and is
    larger raises ``InvalidResponse``; an error body is simply cut."""

    def __init__(self, core: _Core, response: httpx.Response, whole: bool) -> None:
        self.core, self.response, self.whole = core, response, whole
        self.until = time.monotonic() + (core.timeout.read or math.inf)
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; True when enough was read."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > self.core.max_response_bytes:
            if self.whole:
                raise self.core._too_large(self.response)
            return True
        if time.monotonic() > self.until:
            raise httpx.ReadTimeout(f"the answer took over {self.core.timeout.read:.0f} s in "
                                    "all", request=self.response.request)
        return False

    def body(self) -> bytes:
        return b"".join(self.chunks)[:self.core.max_response_bytes]


class _Clock:
    """Time since a call's first attempt: the wall clock, or the waits asked for when they
    add up to more (a test's sleep that does not sleep still ends the retries)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.waited = 0.0

    def waits(self, delay: float) -> float:
        self.waited += delay
        return delay

    def elapsed(self) -> float:
        return max(self.waited, time.monotonic() - self.started)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context per process: loading the CA bundle costs ~20 ms, which a
    client per archive or per webhook would otherwise pay every time."""
    return ssl.create_default_context(cafile=certifi.where())


def never_sent(error: httpx.HTTPError) -> bool:
    """True when the request cannot have reached the server (no connection was made)."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout |
                      httpx.UnsupportedProtocol)


def backoff(attempt: int) -> float:
    """Exponential from 0.5 s, capped at 8 s, with jitter (down to 75 %)."""
    return min(BACKOFF_START * 2 ** (attempt - 1), BACKOFF_CAP) * random.uniform(0.75, 1.0)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), in seconds."""
    value = headers.get("retry-after-ms")
    if value:
        with contextlib.suppress(ValueError):
            return max(0.0, float(value) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable() and " " not in value


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def same_origin(url: str, other: str) -> bool:
    """Same scheme, host and port (the scheme's default port filled in)."""
    try:
        return _origin(url) == _origin(other)
    except ValueError:  # a malformed URL (bad IPv6 or port) is nobody's origin
        return False


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"https": 443, "http": 80}.get(parts.scheme)


# --- Sync --------------------------------------------------------------------------------------


# httpcore reads the network 64 KiB at a time. For a large body, reads of up to 256 KiB halve
# the CPU spent receiving it (0.7 -> 0.33 s per GiB, bench P3); larger ones gain nothing more.
LARGE_READ_BYTES = 256 * 1024


@contextlib.contextmanager
def _large_reads(response: httpx.Response) -> Iterator[None]:
    """Let this response's connection read up to ``LARGE_READ_BYTES`` at a time while its body
    streams. Through httpcore's documented ``network_stream`` extension, on this one connection
    only (small reads elsewhere stay cheap), restored before the connection is reused. A
    transport without that extension simply keeps its own read size."""
    stream: Any = response.extensions.get("network_stream")  # httpcore's, untyped
    read = getattr(stream, "read", None)
    if read is None or not hasattr(stream, "__dict__"):
        yield
        return

    def large_read(max_bytes: int, timeout: float | None = None) -> bytes:
        return read(max(max_bytes, LARGE_READ_BYTES), timeout)

    stream.read = large_read
    try:
        yield
    finally:
        del stream.read


class DownloadStream:
    """A streamed download: ``headers``, ``status_code``, ``iter_bytes(chunk_size)``,
    ``iter_chunks()``, ``bytes_received``."""

    def __init__(self, response: httpx.Response, core: _Core) -> None:
        self.response = response
        self.headers = response.headers
        self.status_code = response.status_code
        self._core = core

    def iter_bytes(self, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        try:
            yield from self.response.iter_bytes(chunk_size)
        except httpx.HTTPError as error:
            raise self._core.transport_error(error, create_body=None) from None

    def iter_chunks(self, decoded_chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """The body in the sizes the network delivers it: no re-chunking copies, so about
        twice as fast as ``iter_bytes`` for large files (bench P3). A content-encoded body
        (gzip…) is still decoded, in ``decoded_chunk_size`` pieces."""
        if self.headers.get("content-encoding", "identity").strip().lower() != "identity":
            yield from self.iter_bytes(decoded_chunk_size)
            return
        try:
            with _large_reads(self.response):
                yield from self.response.iter_raw()
        except httpx.HTTPError as error:
            raise self._core.transport_error(error, create_body=None) from None

    @property
    def bytes_received(self) -> int:
        """Body bytes read from the network so far, before any content decoding: what
        ``Content-Length`` counts."""
        return self.response.num_bytes_downloaded

    async def aiter_bytes(self, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.HTTPError as error:
            raise self._core.transport_error(error, create_body=None) from None


class VideoClient(_Core):
    """Synchronous client. Use as a context manager or call ``close()``."""

    def __init__(self, *, api_key: str | None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = 60.0, connect_timeout: float = 5.0, max_retries: int = 2,
                 user_agent: str | None = None, connect_retry_seconds: float = 0.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 transport: httpx.BaseTransport | None = None,
                 http_client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(api_key=api_key, base_url=base_url, timeout=timeout,
                         connect_timeout=connect_timeout, max_retries=max_retries,
                         user_agent=user_agent, connect_retry_seconds=connect_retry_seconds,
                         max_response_bytes=max_response_bytes)
        self._http = http_client or httpx.Client(timeout=self.timeout, transport=transport,
                                                 verify=tls_context())
        self._own_http = http_client is None
        self._sleep = sleep


    def __enter__(self) -> VideoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def create(self, request: CreateVideoRequest | Mapping[str, Any]) -> RemoteJob:
        body = self.create_body(request)
        return self.job(*self._send("POST", self.videos_url, json=body, create_body=body))

    def retrieve(self, job_id: str) -> RemoteJob:
        return self.job(*self._send("GET", self.job_url(job_id)))

    def cancel(self, job_id: str) -> None:
        raise errors.CancelNotSupported()

    @contextlib.contextmanager
    def download(self, url: str, *, guard: Guard | None = None) -> Iterator[DownloadStream]:
        """Stream ``url``. ``guard`` is called with the URL and with every redirect target
        before it is requested, and refuses one by raising (an SSRF check, say)."""
        target = guard(url) if guard is not None else None
        response, _ = self._send("GET", url, stream=True, follow_redirects=guard is None,
                                 target=target)
        for _ in range(MAX_REDIRECTS):
            if guard is None or not response.has_redirect_location:
                break
            response.close()
            url, target = self.next_hop(url, response, guard)
            response, _ = self._send("GET", url, stream=True, follow_redirects=False,
                                     target=target)
        try:
            self.refuse_more_hops(response, guard)
            yield DownloadStream(response, self)
        finally:
            response.close()

    def _send(self, method: str, url: str, *, json: Any = None, stream: bool = False,
              create_body: dict[str, Any] | None = None, follow_redirects: bool = True,
              target: Target | None = None) -> tuple[httpx.Response, bytes]:
        """The answer and, unless ``stream``, its body (read within ``max_response_bytes``)."""
        clock = _Clock()
        for attempt in itertools.count(1):
            request = self.build(self._http, method, url, json, target)
            body = b""
            try:
                response = self._http.send(
                    request, stream=True,
                    follow_redirects=follow_redirects and create_body is None)
                if not stream or response.status_code >= 400:
                    with contextlib.closing(response):
                        reader = self.body_reader(response)
                        for chunk in response.iter_bytes():
                            if reader.add(chunk):
                                break
                        body = reader.body()
            except httpx.HTTPError as error:
                self._sleep(clock.waits(self.next_delay(
                    attempt, request, error=error, create_body=create_body,
                    elapsed=clock.elapsed())))
                continue
            if response.status_code < 400:
                return response, body
            self._sleep(self.next_delay(attempt, request, response=response, body=body,
                                        create_body=create_body))
        raise AssertionError("unreachable")


# --- Async -------------------------------------------------------------------------------------


# httpx's async connection pool spends CPU in proportion to the connections it juggles: on a
# 2-core machine one pool delivered under 100 requests/s at 64 in flight, pools of 16 about
# 550/s, and the poll loop at 64 went from 38x to 45x its baseline with pools of 8
# (bench/README.md, P1). So connections are spread over small pools.
CONNECTIONS_PER_POOL = 8


class AsyncVideoClient(_Core):
    """Asynchronous client; requests are spread over pools of at most
    ``CONNECTIONS_PER_POOL`` connections (``max_connections`` in all). ``await aclose()``."""

    def __init__(self, *, api_key: str | None, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = 60.0, connect_timeout: float = 5.0, max_retries: int = 2,
                 user_agent: str | None = None, connect_retry_seconds: float = 0.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 transport: httpx.AsyncBaseTransport | None = None,
                 http_client: httpx.AsyncClient | None = None, max_connections: int = 100,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        super().__init__(api_key=api_key, base_url=base_url, timeout=timeout,
                         connect_timeout=connect_timeout, max_retries=max_retries,
                         user_agent=user_agent, connect_retry_seconds=connect_retry_seconds,
                         max_response_bytes=max_response_bytes)
        self._pools = [http_client] if http_client else self._make_pools(max_connections,
                                                                          transport)
        self._own_http = http_client is None
        self._turn = itertools.count()
        self._sleep = sleep

    def _make_pools(self, max_connections: int, transport: httpx.AsyncBaseTransport | None
                    ) -> list[httpx.AsyncClient]:
        count = max(1, -(-max_connections // CONNECTIONS_PER_POOL))
        size = max(1, -(-max_connections // count))
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        return [httpx.AsyncClient(timeout=self.timeout, transport=transport,
                                  verify=tls_context(), limits=limits) for _ in range(count)]

    @property
    def _http(self) -> httpx.AsyncClient:
        return self._pools[next(self._turn) % len(self._pools)]


    async def __aenter__(self) -> AsyncVideoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            for pool in self._pools:
                await pool.aclose()

    async def close(self) -> None:
        """Same as ``aclose()``, for symmetry with ``VideoClient.close()``."""
        await self.aclose()

    async def create(self, request: CreateVideoRequest | Mapping[str, Any]) -> RemoteJob:
        body = self.create_body(request)
        return self.job(*await self._send("POST", self.videos_url, json=body,
                                          create_body=body))

    async def retrieve(self, job_id: str) -> RemoteJob:
        return self.job(*await self._send("GET", self.job_url(job_id)))

    async def cancel(self, job_id: str) -> None:
        raise errors.CancelNotSupported()

    @contextlib.asynccontextmanager
    async def download(self, url: str, *, guard: Guard | None = None
                       ) -> AsyncIterator[DownloadStream]:
        """As :meth:`VideoClient.download`."""
        target = guard(url) if guard is not None else None
        response, _ = await self._send("GET", url, stream=True,
                                       follow_redirects=guard is None, target=target)
        for _ in range(MAX_REDIRECTS):
            if guard is None or not response.has_redirect_location:
                break
            await response.aclose()
            url, target = self.next_hop(url, response, guard)
            response, _ = await self._send("GET", url, stream=True, follow_redirects=False,
                                           target=target)
        try:
            self.refuse_more_hops(response, guard)
            yield DownloadStream(response, self)
        finally:
            await response.aclose()

    async def _send(self, method: str, url: str, *, json: Any = None, stream: bool = False,
                    create_body: dict[str, Any] | None = None, follow_redirects: bool = True,
                    target: Target | None = None) -> tuple[httpx.Response, bytes]:
        """As :meth:`VideoClient._send`."""
        clock = _Clock()
        for attempt in itertools.count(1):
            pool = self._http
            request = self.build(pool, method, url, json, target)
            body = b""
            try:
                response = await pool.send(
                    request, stream=True,
                    follow_redirects=follow_redirects and create_body is None)
                if not stream or response.status_code >= 400:
                    try:
                        reader = self.body_reader(response)
                        async for chunk in response.aiter_bytes():
                            if reader.add(chunk):
                                break
                        body = reader.body()
                    finally:
                        await response.aclose()
            except httpx.HTTPError as error:
                await self._sleep(clock.waits(self.next_delay(
                    attempt, request, error=error, create_body=create_body,
                    elapsed=clock.elapsed())))
                continue
            if response.status_code < 400:
                return response, body
            await self._sleep(self.next_delay(attempt, request, response=response, body=body,
                                              create_body=create_body))
        raise AssertionError("unreachable")

