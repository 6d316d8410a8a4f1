"""Tasks a test keeps from the broker. Every enqueue in videogen goes through
``videogen.schedules.enqueue``, so this is the one place to patch."""

from __future__ import annotations

from typing import Any

import pytest

from videogen import schedules


class Queue:
    """Tasks enqueued during a test, as ``(task name, *args)``, instead of sent to a broker.
    With ``only``, tasks of other names go to the real enqueue as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, only: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.only = only
        self._monkeypatch = monkeypatch
        self._real = schedules.enqueue

    def __call__(self, task: str, *args: Any) -> str | None:
        if self.only and task not in self.only:
            return self._real(task, *args)
        self.calls.append((task, *args))
        return "task-id"

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def stop(self) -> None:
        """Enqueue for real again (the broker is back), leaving the test's other patches."""
        self._monkeypatch.setattr(schedules, "enqueue", self._real)

    def args(self, task: str) -> list[tuple[Any, ...]]:
        """The arguments of each ``task`` recorded, in order."""
        return [tuple(call[1:]) for call in self.calls if call[0] == task]


def record_tasks(monkeypatch: pytest.MonkeyPatch, *only: str) -> Queue:
    """Record the tasks named in ``only`` (all of them when none is named) instead of
    enqueueing them, until the test ends or :meth:`Queue.stop`."""
    queue = Queue(monkeypatch, only)
    monkeypatch.setattr(schedules, "enqueue", queue)
    return queue
