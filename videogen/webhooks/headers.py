"""The extra headers an endpoint sends with each delivery: what HTTP allows.

A name is an RFC 9110 token; a value is visible ASCII, spaces and tabs. Anything else either
fails every delivery to the endpoint (httpx cannot encode ``é``) or is refused by the HTTP
library at send time (a line break, a space in a name), so it is refused when saved instead.
Names starting with ``webhook-`` belong to the signature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x20-\x7e\t]*")
MAX_HEADERS = 20
MAX_VALUE_LENGTH = 1000


def header_problem(headers: Mapping[Any, Any]) -> str | None:
    """Why these headers cannot be sent, or None. Values are never quoted back."""
    if len(headers) > MAX_HEADERS:
        return f"at most {MAX_HEADERS} headers"
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return "header names are letters, digits and !#$%&'*+-.^_`|~ (no spaces)"
        if name.lower().startswith("webhook-"):
            return f"{name} is set by the signature"
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH \
                or not _VALUE.fullmatch(value):
            return (f"the value of {name} must be printable ASCII on one line, up to "
                    f"{MAX_VALUE_LENGTH} characters")
    return None
