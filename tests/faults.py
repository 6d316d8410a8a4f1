"""Stand-ins for a process dying mid-step, to patch over the step it dies in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn


class Killed(BaseException):
    """Stands in for kill -9: not an Exception, so no handler of ours catches it."""


def raises(error: BaseException) -> Callable[..., NoReturn]:
    """A replacement for any function or method: whatever it is called with, it raises
    ``error``."""
    def replacement(*args: Any, **kwargs: Any) -> NoReturn:
        raise error

    return replacement
