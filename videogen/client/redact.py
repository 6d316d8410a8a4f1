"""Keeping the API key, and signed links, out of what the provider sends back.

A provider may echo the key in any field of an answer (``error.param``, ``error.code``, a
message), whole, cut short or lower-cased. The client passes every answer through a
:class:`Redactor` where it enters, so nothing downstream — the job's columns, its history,
webhook payloads, logs, exceptions — ever holds it: any run of :data:`MIN_RUN` or more of the
key's characters, in any case, becomes ``[redacted]``.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
#: The shortest echoed piece of the key that is removed (a shorter key is removed whole).
MIN_RUN = 8
# The query string of a URL in a message: a signed link's signature lives there.
_QUERY = re.compile(r"((?:https?|s3)://[^\s?#\"'<>]*)\?[^\s#\"'<>]*", re.IGNORECASE)


class Redactor:
    """Removes one secret from text and from parsed JSON."""

    def __init__(self, secret: str | None) -> None:
        secret = secret or ""
        size = min(MIN_RUN, len(secret))
        # Every piece of the key of that size: a longer echoed run is a chain of them.
        self._pieces = sorted({secret[i:i + size].lower()
                               for i in range(len(secret) - size + 1)}) if secret else []
        alternatives = "|".join(re.escape(piece) for piece in self._pieces)
        # A lookahead finds overlapping pieces, so a run is covered from end to end.
        self._pattern = re.compile(f"(?=({alternatives}))", re.IGNORECASE) \
            if self._pieces else None

    def text(self, value: str) -> str:
        """``value`` with every run of the key's characters replaced."""
        if self._pattern is None or not value:
            return value
        lowered = value.lower()
        # A substring search per piece is cheap; the regex runs only when one is there.
        if not any(piece in lowered for piece in self._pieces):
            return value
        spans: list[list[int]] = []
        for start, end in sorted(self._found(value, lowered)):
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        parts, last = [], 0
        for start, end in spans:
            parts += [value[last:start], REDACTED]
            last = end
        return "".join([*parts, value[last:]])

    def _found(self, value: str, lowered: str) -> list[tuple[int, int]]:
        """(start, end) of every piece of the key in ``value``, overlapping ones included."""
        if len(lowered) != len(value):  # a few characters lower-case to two: the slow way
            assert self._pattern is not None
            return [match.span(1) for match in self._pattern.finditer(value)]
        found = []
        for piece in self._pieces:
            start = lowered.find(piece)
            while start != -1:
                found.append((start, start + len(piece)))
                start = lowered.find(piece, start + 1)
        return found

    def data(self, value: Any) -> Any:
        """Parsed JSON with the key removed from every string, keys of objects included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        return value

    def message(self, value: str) -> str:
        """Text for an exception or a log line: no key, and URLs without their query string."""
        return without_queries(self.text(value))


def without_queries(text: str) -> str:
    """Every URL in ``text`` cut before its query string (a signed link's signature)."""
    return _QUERY.sub(r"\1?[…]", text)
