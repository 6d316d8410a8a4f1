"""videogen: Together AI video generation as durable Django records.

The public API lives in :mod:`videogen.api`; its names are also reachable here
(``videogen.generate(...)``) once Django is set up — imported lazily, so that importing this
package from settings files or ``INSTALLED_APPS`` loads nothing else.
"""

from typing import Any

__version__ = "0.1.0"

_API_NAMES = (
    "InvalidRequest", "WaitTimeout", "acancel", "acreate", "agenerate", "arefresh", "asubmit",
    "await_job", "cancel", "create", "generate", "refresh", "submit", "wait",
)


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from videogen import api

        return getattr(api, name)
    raise AttributeError(f"module 'videogen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API_NAMES])
