"""The chaos driver: SIGKILLs a random qcluster node (its whole process group) every few
seconds and starts it again, terminates every PostgreSQL backend of the test database once
mid-run, and restarts the run's own Redis once (its queue is lost: no persistence)."""

from __future__ import annotations

import random
from typing import Any

from django.db import connection

from tests.reliability.runs import Disturbance, Run


class KillNodes(Disturbance):
    def __init__(self, rng: random.Random, every: float = 6.0) -> None:
        self.rng, self.every, self.next_at = rng, every, every

    def tick(self, run: Run, elapsed: float) -> None:
        if elapsed >= self.next_at:
            run.nodes.kill_random(self.rng)
            self.next_at = elapsed + self.every * self.rng.uniform(0.5, 1.5)


class Once(Disturbance):
    def __init__(self, at: float) -> None:
        self.at, self.done = at, False
        self.result: Any = None

    def tick(self, run: Run, elapsed: float) -> None:
        if not self.done and elapsed >= self.at:
            self.done = True
            self.result = self.act(run)

    def act(self, run: Run) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class TerminatePostgres(Once):
    """Every other connection to the test database is cut, whatever it was doing."""

    def act(self, run: Run) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            return cursor.fetchone()[0]


class RestartRedis(Once):
    def act(self, run: Run) -> int:
        run.redis.restart(down_seconds=2.0)
        return run.redis.restarts
