"""After-commit follow-ups of a transition on the row it saved, not read again.

The plain way reads the job once more in the ``on_commit`` callback. When the transition's
atomic block is its transaction's outermost, the row saved there is the row committed (it
stays locked until then), so a copy of it serves: one query less per status change, which took
the archive task from 28 to 21 ms of CPU (one process, 40 archives; bench/README.md, P4, "How
it got here").
"""

from __future__ import annotations

import copy
from typing import TypeVar

from django.db import transaction

_T = TypeVar("_T")


def committed_copy(saved: _T, using: str | None = None) -> _T | None:
    """A copy of ``saved`` to hand to after-commit steps, when the current atomic block is the
    whole transaction (``saved`` is then what commits); None inside an enclosing transaction,
    which may change the row again before it commits: read it after the commit then. A copy,
    so that receivers changing it change nothing of the caller's."""
    # Django keeps no public flag for "outermost atomic block": commit_on_exit is set by the
    # block that opened the transaction, savepoint_ids lists the nested blocks inside it.
    connection = transaction.get_connection(using)
    if connection.commit_on_exit and not connection.savepoint_ids:
        return copy.deepcopy(saved)
    return None
