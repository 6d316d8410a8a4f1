"""What ``GET /shrt/<token>`` sends: the rendered clip, optionally padded to a large size, in
byte ranges.

Padding (``pad_to_bytes``) lets memory benchmarks download hundreds of MB without rendering
them: the real clip is followed by one box the players skip — an MP4 ``free`` box or a WebM
``Void`` element — whose body is zeros streamed from a constant buffer, so neither the server
nor the disk holds the padding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 256 * 1024
_ZEROS = bytes(CHUNK)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ValueError):
    """The Range header asks for bytes past the end (HTTP 416)."""


@dataclass(frozen=True)
class DownloadBody:
    path: str
    size: int  # bytes of the real clip
    total: int  # bytes sent for the whole file, padding included
    filler_header: bytes = b""

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of the (padded) file, at most ``CHUNK`` at a time."""
        yield from _file_part(self.path, start, min(stop, self.size))
        header_end = self.size + len(self.filler_header)
        if stop > self.size and start < header_end:
            yield self.filler_header[max(0, start - self.size): stop - self.size]
        position = max(start, header_end)
        while position < stop:
            step = min(CHUNK, stop - position)
            yield _ZEROS[:step] if step < CHUNK else _ZEROS
            position += step


def _file_part(path: str, start: int, stop: int) -> Iterator[bytes]:
    if start >= stop:
        return
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = stop - start
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


def download_body(path: str, output_format: str, pad_to_bytes: int | None) -> DownloadBody:
    size = os.path.getsize(path)
    header = filler_header(output_format, (pad_to_bytes or 0) - size)
    if not header:
        return DownloadBody(path, size, size)
    return DownloadBody(path, size, int(pad_to_bytes or 0), header)


def filler_header(output_format: str, length: int) -> bytes:
    """The header of a skippable box of ``length`` bytes in all (b"" when too short)."""
    if output_format == "WEBM":
        # EBML Void (0xEC) with an 8-byte size field: 1 + 8 header bytes.
        if length < 9:
            return b""
        return b"\xec\x01" + (length - 9).to_bytes(7, "big")
    if length < 8:
        return b""
    if length < 2**32:
        return length.to_bytes(4, "big") + b"free"
    # 64-bit "largesize" form: size field 1, then the real size after the type.
    return (1).to_bytes(4, "big") + b"free" + length.to_bytes(8, "big")


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``(start, stop)`` for a single ``bytes=`` range, None for "send everything" (no header,
    several ranges, or a form we do not serve). Raises ``RangeNotSatisfiable``."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(header)
        return max(0, total - length), total
    start = int(first)
    stop = total if last == "" else min(int(last) + 1, total)
    if start >= total or stop <= start:
        raise RangeNotSatisfiable(header)
    return start, stop
