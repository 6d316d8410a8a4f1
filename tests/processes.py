"""Real processes for the tests that need them: `manage.py qcluster` nodes against the test
database, each in its own process group so that a test can SIGKILL one whole node (the
cluster's sentinel, pusher, monitor and workers) and restart it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database as a DATABASE_URL, for processes started by a test."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/" \
           f"{db['NAME']}"


def cluster_env(*, sandbox_url: str, api_key: str, media_root: Path | str,
                redis_url: str | None = None, workers: int = 2,
                **extra: str) -> dict[str, str]:
    """Environment of a qcluster process: the test database, the sandbox, the test's media
    folder and, when given, a Redis broker (else the settings' broker)."""
    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": database_url(), "TOGETHER_BASE_URL": sandbox_url,
           "TOGETHER_API_KEY": api_key, "MEDIA_ROOT": str(media_root), "Q_WORKERS": str(workers),
           **extra}
    redis = redis_url or settings.Q_CLUSTER.get("redis")
    if redis:
        env["REDIS_URL"] = redis
    else:
        env.pop("REDIS_URL", None)
    return env


class QCluster:
    """One `manage.py qcluster` node in a process group of its own, logging to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log: IO[str] | None = None
        self.starts = 0

    def start(self) -> QCluster:
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                                        env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole node at once: nothing gets to clean up (a crashed machine)."""
        if self.process is not None:
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._close_log()

    def stop(self, grace: float = 20.0) -> None:
        """Ask the node to finish (SIGTERM), then insist."""
        if self.process is None:
            return
        signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # Workers forked by the node may outlive the sentinel for a moment.
        signal_group(self.process.pid, signal.SIGKILL)
        self._close_log()

    def log_tail(self, chars: int = 5000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() \
            else ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)
