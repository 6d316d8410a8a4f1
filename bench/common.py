"""What every benchmark needs: the sandbox in its own process, Django on a throwaway database,
the machine's description, and the results written to ``bench/out/<name>.json``."""

from __future__ import annotations

import atexit
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


class Sandbox:
    """``python -m videogen.sandbox`` on a free port, in a process of its own.

    In-process, the sandbox's request threads would take the GIL from the code being measured,
    so its CPU cost would show up as the poller's; a real provider is on another machine."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "videogen.sandbox", "--port", "0", *options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # The first line is "videogen sandbox on http://127.0.0.1:PORT  (...)".
        line = self.process.stdout.readline() if self.process.stdout else ""
        if " on http" not in line:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.split(" on ", 1)[1].split()[0]
        from videogen.sandbox.remote import RemoteSandbox

        self.control = RemoteSandbox(self.url)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_django(sandbox_url: str) -> Path:
    """The demo project's settings on a throwaway database, migrated; returns the temp dir
    (MEDIA_ROOT is ``<dir>/media``). SQLite by default; with ``DATABASE_URL`` a new database
    on that PostgreSQL server, dropped at exit."""
    workdir = Path(tempfile.mkdtemp(prefix="videogen-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    server_url = os.environ.get("DATABASE_URL")
    database_url = _scratch_postgres(server_url) if server_url else \
        f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(DATABASE_URL=database_url, TOGETHER_BASE_URL=sandbox_url,
                      TOGETHER_API_KEY="bench-key", MEDIA_ROOT=str(workdir / "media"),
                      DJANGO_SETTINGS_MODULE="project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return workdir


def _scratch_postgres(server_url: str) -> str:
    """Create ``videogen_bench_<random>`` next to the given database; drop it at exit."""
    import psycopg

    name = f"videogen_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq_url(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(_libpq_url(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _libpq_url(url: str) -> str:
    # dj-database-url accepts postgres://, postgresql:// and postgis://; libpq only the first two.
    return "postgresql://" + url.split("://", 1)[1]


def database_vendor() -> str:
    from django.db import connection

    return connection.vendor


def machine() -> dict[str, Any]:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    memory = free[1].split() if len(free) > 1 else []
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "memory_total": memory[1] if len(memory) > 1 else "?",
            "memory_available": memory[6] if len(memory) > 6 else "?",
            "load_1min": round(os.getloadavg()[0], 2), "python": platform.python_version()}


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain text table (also valid Markdown) of ``rows``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(name, "")) for name in columns) + " |" for row in rows]
    return "\n".join(lines)


def save(name: str, result: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, default=str))
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return path


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started
