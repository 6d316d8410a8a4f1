"""videogen: Together AI video generation as durable Django records.

The public API lives in :mod:`videogen.api`; its names are also reachable here
(``videogen.generate(...)``) once Django is set up — imported lazily, so that importing this
package from settings files or ``INSTALLED_APPS`` loads nothing else.
"""

from typing import TYPE_CHECKING, Any

from videogen.version import __version__ as __version__

# The public API, imported from videogen.api on first use (see __getattr__); equal to
# videogen.api.__all__ (tests/foundation/test_exceptions.py keeps them so).
__all__ = [
    "InvalidRequest", "RequestWarning", "VideogenError", "WaitTimeout", "acancel", "acreate",
    "agenerate", "arefresh", "asubmit", "await_job", "cancel", "create", "generate", "refresh",
    "submit", "wait",
]

if TYPE_CHECKING:
    # Type checkers see the real signatures; at run time nothing is imported here.
    from videogen.api import (
        InvalidRequest,
        RequestWarning,
        VideogenError,
        WaitTimeout,
        acancel,
        acreate,
        agenerate,
        arefresh,
        asubmit,
        await_job,
        cancel,
        create,
        generate,
        refresh,
        submit,
        wait,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from videogen import api

        return getattr(api, name)
    raise AttributeError(f"module 'videogen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
