"""Large network reads while a download's body streams.

httpcore reads the network 64 KiB at a time. For a large body, reads of up to 256 KiB halve the
CPU spent receiving it: 0.70 → 0.33 s per GiB received; larger ones gain nothing more. With
the hashing and writing threads (:mod:`videogen.fastpath.pipeline`) they took a 1 GiB archive
from 0.59 of ``curl -o file``'s throughput to 0.73–0.76 (bench/README.md, P3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

LARGE_READ_BYTES = 256 * 1024


@contextlib.contextmanager
def large_reads(response: httpx.Response) -> Iterator[None]:
    """Let this response's connection read up to ``LARGE_READ_BYTES`` at a time while its body
    streams. Through httpcore's documented ``network_stream`` extension, on this one connection
    only (small reads elsewhere stay cheap), restored before the connection is reused. A
    transport without that extension simply keeps its own read size."""
    stream: object = response.extensions.get("network_stream")
    read = getattr(stream, "read", None)
    if read is None or not hasattr(stream, "__dict__"):
        yield
        return

    def large_read(max_bytes: int, timeout: float | None = None) -> bytes:
        return read(max(max_bytes, LARGE_READ_BYTES), timeout)

    # An attribute of this one stream object shadows its class's method until deleted.
    setattr(stream, "read", large_read)  # noqa: B010
    try:
        yield
    finally:
        delattr(stream, "read")
