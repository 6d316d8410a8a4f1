"""What every benchmark needs: Django on a throwaway database, the sandbox, results on disk."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def setup_django(sandbox_url: str, **videogen_env: str) -> Path:
    """Settings of the demo project on a temporary SQLite file (or DATABASE_URL), migrated."""
    workdir = Path(tempfile.mkdtemp(prefix="videogen-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.update(TOGETHER_BASE_URL=sandbox_url, TOGETHER_API_KEY="bench",
                      MEDIA_ROOT=str(workdir / "media"), DJANGO_SETTINGS_MODULE="project.settings",
                      **videogen_env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return workdir


class SandboxProcess:
    """The sandbox in a process of its own, as the real provider would be: in this process its
    threads would compete with the code under test for the GIL."""

    def __init__(self, *args: str) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "videogen.sandbox", "--port", str(self.port), *args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        import time

        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{self.url}/_sandbox/stats", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        return httpx.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs).json()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def machine() -> dict[str, Any]:
    memory = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split()
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "memory_gib": memory[7] if len(memory) > 7 else "?",
            "python": platform.python_version()}


def save(name: str, result: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine(), **result}
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
