"""`make demo`: migrate, make an admin user, then run the sandbox, a django-q2 cluster and the
web server together until Ctrl-C, which stops every process started here."""

from __future__ import annotations

import ctypes
import ipaddress
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("DEMO_HOST", "127.0.0.1")
PORT = os.environ.get("DEMO_PORT", "8000")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SANDBOX_PORT = os.environ.get("DEMO_SANDBOX_PORT", "8765")


def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, **kwargs)


def migrate() -> None:
    manage("migrate", "--no-input", stdout=subprocess.DEVNULL)


def ensure_admin() -> None:
    """Create `admin` once; its password comes from DJANGO_SUPERUSER_PASSWORD or is printed."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    if users.filter(username="admin").exists():
        print("Admin user 'admin' exists (password as set before).")
        return
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
    users.create_superuser("admin", "admin@example.com", password)
    shown = "from DJANGO_SUPERUSER_PASSWORD" if "DJANGO_SUPERUSER_PASSWORD" in os.environ \
        else password
    print(f"Created admin user 'admin', password: {shown}  (shown once)")


def start(*args: str) -> subprocess.Popen:
    # A session of its own, so Ctrl-C reaches only this script, which then stops each child;
    # and on Linux each child is told to stop if this script dies without doing so (kill -9).
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT,
                            start_new_session=True, preexec_fn=die_with_parent)


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM when the process that started it dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a name
        return False


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def _parent_stopping(parent: int) -> bool:
    """Whether ``make demo``, our parent, was told to stop. make does not pass SIGINT or
    SIGTERM on to a recipe: on SIGTERM it exits, leaving us behind; on SIGINT it waits for us,
    with the signal blocked, which Linux shows in /proc/PID/status."""
    if os.getppid() != parent:
        return True
    proc = Path(f"/proc/{parent}")
    try:
        if proc.joinpath("comm").read_text().strip() not in {"make", "gmake"}:
            return False
        blocked = re.search(r"^SigBlk:\s*([0-9a-f]+)", proc.joinpath("status").read_text(), re.M)
    except OSError:
        return False
    mask = int(blocked.group(1), 16) if blocked else 0
    return any(mask & (1 << (sig - 1)) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def main() -> None:
    # First of all: a supervisor may stop us during the start-up below. Explicit handlers,
    # because a shell may start us with SIGINT ignored (in the background, say).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    parent = os.getppid()
    os.chdir(ROOT)
    os.environ.setdefault("DEMO_WEBHOOK_RECEIVER", "1")
    # The provider is the sandbox started below, and the receiver is this demo's own site,
    # on whatever ports DEMO_SANDBOX_PORT and DEMO_PORT gave them.
    os.environ.setdefault("VIDEOGEN_SANDBOX_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    own_host = "127.0.0.1" if _wildcard(HOST) else HOST
    os.environ.setdefault("DEMO_WEBHOOK_URL", f"http://{own_host}:{PORT}/demo/webhook-receiver/")
    processes: list[subprocess.Popen] = []
    try:
        migrate()
        ensure_admin()
        manage("videogen_setup")
        from django.conf import settings

        processes += [
            start("videogen_sandbox", "--host", "127.0.0.1", "--port", SANDBOX_PORT,
                  "--time-scale", str(settings.SANDBOX_TIME_SCALE)),
            start("qcluster"),
            start("runserver", f"{HOST}:{PORT}", "--noreload"),
        ]
        print(f"\nvideogen demo: http://{HOST}:{PORT}/admin/  (Ctrl-C stops everything)")
        print(f"signed webhooks arrive at http://{HOST}:{PORT}/demo/webhook-receiver/\n",
              flush=True)
        while all(p.poll() is None for p in processes):
            if _parent_stopping(parent):
                raise KeyboardInterrupt
            time.sleep(0.5)
        print("A demo process exited; stopping the others.")
    except KeyboardInterrupt:
        print("\nStopping the demo…", flush=True)
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
