"""The extra headers an endpoint sends with each delivery: what HTTP allows, and nothing that
is videogen's to set.

A name is an RFC 9110 token; a value is visible ASCII, spaces and tabs. Anything else either
fails every delivery to the endpoint (httpx cannot encode ``é``) or is refused by the HTTP
library at send time (a line break, a space in a name), so it is refused when saved instead.
So are the headers that frame the message or route it (``Host``, ``Transfer-Encoding``,
``Content-Length``…: a second ``Host`` aimed at the checked address is a way round URL-based
rules on a shared proxy, ``Transfer-Encoding`` beside ``Content-Length`` the usual
request-smuggling set-up), hop-by-hop ones, and those that say who sends what
(``Content-Type``, ``User-Agent``, the ``webhook-*`` signature).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x20-\x7e\t]*")
MAX_HEADERS = 20
MAX_VALUE_LENGTH = 1000

#: Lower-cased names an endpoint may not set, and why.
RESERVED = {
    **dict.fromkeys(("host", "content-length", "transfer-encoding", "content-encoding",
                     "expect"), "frames the request; videogen sets it"),
    **dict.fromkeys(("connection", "keep-alive", "te", "trailer", "upgrade"),
                    "is a hop-by-hop header"),
    **dict.fromkeys(("content-type", "user-agent"), "is set by videogen"),
    **dict.fromkeys(("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
                     "x-real-ip", "x-original-url", "x-rewrite-url"),
                    "tells a proxy where the request is going; it is set by the proxies"),
}
#: Lower-cased prefixes an endpoint may not use, and why.
RESERVED_PREFIXES = {"proxy-": "is a hop-by-hop header", "webhook-": "is set by the signature"}


def header_problem(headers: Mapping[Any, Any]) -> str | None:
    """Why these headers cannot be sent, or None. Names the header; values are never quoted
    back (they may be secrets)."""
    if len(headers) > MAX_HEADERS:
        return f"at most {MAX_HEADERS} headers"
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return "header names are letters, digits and !#$%&'*+-.^_`|~ (no spaces)"
        reason = reserved(name)
        if reason:
            return f"{name} {reason}"
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH \
                or not _VALUE.fullmatch(value):
            return (f"the value of {name} must be printable ASCII on one line, up to "
                    f"{MAX_VALUE_LENGTH} characters")
    return None


def reserved(name: str) -> str | None:
    """Why an endpoint may not set this header, or None."""
    lowered = name.lower()
    if lowered in RESERVED:
        return RESERVED[lowered]
    return next((why for prefix, why in RESERVED_PREFIXES.items()
                 if lowered.startswith(prefix)), None)
