"""The shipped demo run as a whole, unattended, for minutes: `make demo` (the sandbox, a real
`qcluster` and the web server as processes of their own) on the settings users copy.

Jobs come in through the admin (HTTP, logged in) and through the Python API; the webhook
receiver answers 503 for the first part of the run, then recovers; one worker is SIGKILLed in
the middle of an archive. Everything asserted comes from the database and the processes' log.

    make soak      # SQLite + the ORM broker (the demo's own settings), then PostgreSQL + Redis
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from project.rundemo import die_with_parent
from tests.reliability.harness import Receiver
from tests.servers import free_port, wait_for
from tests.soak.proctree import alive, command, descendants, rss_kib

pytestmark = [pytest.mark.soak, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
# Long enough for every schedule to run several times and for a killed worker's archive to
# come back (its lease is Q_CLUSTER['timeout'] + 60 = 150 s, then the minute sweep).
SOAK_SECONDS = float(os.environ.get("VIDEOGEN_SOAK_SECONDS", "270"))
RECEIVER_DOWN_SECONDS = 45.0
DEMO_SPEED_LIMIT = 10.0  # "Save and submit" → archived, seconds, per catalog model
PASSWORD = "soak-admin-password-1"
SCHEDULE_NAMES = ("videogen: poll due jobs", "videogen: sweep stranded work",
                  "videogen: deliver due webhooks")


# --- The demo as processes ----------------------------------------------------------------------


def _database_url(tmp: Path) -> str:
    """The demo's SQLite file in this test's folder; or, on a PostgreSQL run, a database of
    this run's own on the same server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'db.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS videogen_soak WITH (FORCE)")
        admin.execute("CREATE DATABASE videogen_soak")
    return parts._replace(path="/videogen_soak").geturl()


class Demo:
    """`make demo` with its ports, database and media folder in this test's hands."""

    def __init__(self, tmp: Path, receiver_url: str) -> None:
        self.web = free_port()
        self.sandbox_port = free_port()
        self.media = tmp / "media"
        self.log_path = tmp / "demo.log"
        self.env = {
            **os.environ, "DATABASE_URL": _database_url(tmp), "MEDIA_ROOT": str(self.media),
            "DEMO_PORT": str(self.web), "DEMO_SANDBOX_PORT": str(self.sandbox_port),
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DEMO_WEBHOOK_URL": receiver_url,
            # What `make demo` sets for its children, so the probe's Python API calls go to
            # the same sandbox.
            "VIDEOGEN_SANDBOX_URL": f"http://127.0.0.1:{self.sandbox_port}",
            # A queue (the cluster's name) of this run's own on a shared Redis.
            "VIDEOGEN_TEST_DB_SUFFIX": f"-soak{os.getpid()}", "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_DEBUG", None)
        self.url = f"http://127.0.0.1:{self.web}"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "w")  # noqa: SIM115 - the child holds it
        # If this test process dies, make is told to stop, and so the demo (see rundemo).
        self.process = subprocess.Popen(["make", "--no-print-directory", "demo"], cwd=ROOT,
                                        env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=die_with_parent)
        wait_for(self._serving, 180, "the demo's admin to answer")

    def _serving(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log()[-3000:]
        try:
            return httpx.get(f"{self.url}/admin/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def tree(self) -> list[int]:
        return descendants(self.process.pid) if self.process else []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def probe(self, *args: str) -> Any:
        result = subprocess.run([sys.executable, "-m", "tests.soak.probe", *args], cwd=ROOT,
                                env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def stop(self, signum: int) -> list[int]:
        """Signal `make` alone, as a supervisor or a background shell does; the processes of
        the demo still alive 30 s later."""
        tree = self.tree()
        assert self.process is not None
        self.process.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(pid) for pid in tree):
            time.sleep(0.5)
        left = [pid for pid in tree if alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        return left


class Staff:
    """A content editor in the admin, over HTTP."""

    def __init__(self, demo: Demo) -> None:
        self.http = httpx.Client(base_url=demo.url, timeout=30, follow_redirects=True)
        page = self.http.get("/admin/login/?next=/admin/")
        self.http.post("/admin/login/?next=/admin/", data={
            "username": "admin", "password": PASSWORD, "next": "/admin/",
            "csrfmiddlewaretoken": _csrf(page.text)})
        assert "Log out" in self.http.get("/admin/").text or "logout" in self.http.get(
            "/admin/").text, "could not log in"

    def save_and_submit(self, fields: dict[str, str]) -> str:
        add = "/admin/videogen/videojob/add/"
        page = self.http.get(add)
        response = self.http.post(add, data={**fields, "csrfmiddlewaretoken": _csrf(page.text),
                                              "_submit": "Save and submit"})
        match = re.search(r"/admin/videogen/videojob/([0-9a-f-]{36})/change/", str(response.url))
        assert match, f"{fields['model']}: no job page after Save and submit " \
                      f"({response.status_code}): {_errors(response.text)}"
        return match.group(1)

    def progress(self, job_id: str) -> dict[str, Any]:
        return self.http.get(f"/admin/videogen/videojob/{job_id}/progress/").json()


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _errors(html: str) -> str:
    return " | ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))[:500]


def admin_fields(spec: Any) -> dict[str, str]:
    """The add form as an editor fills it for ``spec``: its first documented size and
    duration, the lowest frame rate."""
    fields = {"model": spec.id, "prompt": "A lighthouse on a cliff at dawn, waves below",
              "generate_audio": "unknown", "metadata": "{}"}
    if spec.uses_resolution:
        fields |= {"resolution": spec.resolutions[0], "ratio": spec.ratios[0]}
    elif spec.sizes:
        width, height = min(spec.sizes, key=lambda size: size[0] * size[1])
        fields["size"] = f"{width}x{height}"
    if spec.durations:
        fields["seconds"] = str(spec.durations[0])
    if spec.fps:
        fields["fps"] = str(min(spec.fps))
    for group in spec.required_media:  # r2v needs a reference, videoedit the video to edit
        field = REQUIRED_INPUT_FIELDS[group[0]]
        fields[field] = f"https://example.com/soak/{field}.{'mp4' if 'video' in field else 'png'}"
    return fields


#: The add form's URL input for a media field a model needs (nothing fetches these: the
#: sandbox renders without them and the admin shows third-party images only on request).
REQUIRED_INPUT_FIELDS = {"reference_images": "reference_urls",
                         "reference_videos": "reference_video_urls",
                         "source_video": "source_video_url"}


# --- Disturbances -------------------------------------------------------------------------------


def kill_a_worker_mid_archive(demo: Demo) -> int:
    """The next download trickles; the worker holding its half-written file is SIGKILLed."""
    httpx.post(f"{demo.sandbox}/_sandbox/faults", json={"spec": "trickle=1000 count=1"},
               timeout=10).raise_for_status()
    demo.probe("create", "1", "killed-mid-archive")
    found: list[int] = []

    def writing() -> bool:
        found[:] = [pid for pid in demo.tree()
                    if "qcluster" in command(pid) and _holds_partial(pid, demo.media)]
        return bool(found)

    wait_for(writing, 60, "a worker to download into a .part file")
    os.kill(found[0], signal.SIGKILL)
    return found[0]


def _holds_partial(pid: int, media: Path) -> bool:
    """Whether ``pid`` has a half-written download of the archive open (the sandbox has
    files of its own that end in .part)."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return False
    return any(link.startswith(str(media)) and link.endswith(".part") for link in links)


class Memory:
    """RSS of every demo process, sampled every 10 s, by what it runs."""

    def __init__(self, demo: Demo) -> None:
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.demo = demo
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        while not self.stopped.wait(10):
            by_role: dict[str, int] = {}
            for pid in self.demo.tree():
                role = _role(command(pid))
                by_role[role] = by_role.get(role, 0) + rss_kib(pid)
            self.samples.append((time.monotonic() - started, by_role))

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=15)


def _role(cmdline: str) -> str:
    for role in ("qcluster", "runserver", "videogen_sandbox", "rundemo", "make"):
        if role in cmdline:
            return role
    return "other"


# --- The run ------------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def test_the_shipped_demo_runs_unattended(tmp_path, receiver):
    from videogen.catalog import BUILTIN

    receiver.up = False
    demo = Demo(tmp_path, receiver.url)
    started = time.monotonic()
    demo.start()
    memory = Memory(demo)
    try:
        up_at = time.monotonic()
        killed = kill_a_worker_mid_archive(demo)
        api_jobs = threading.Thread(target=demo.probe, args=("create", "6", "python-api"))
        api_jobs.start()
        staff = Staff(demo)
        speed = {}
        for model_id, spec in sorted(BUILTIN.items()):
            if time.monotonic() - up_at > RECEIVER_DOWN_SECONDS:
                receiver.up = True
            pressed = time.time()
            job_id = staff.save_and_submit(admin_fields(spec))
            wait_for(lambda job_id=job_id: _settled(staff.progress(job_id)), 60,
                     f"{model_id} to be archived")
            speed[model_id] = (job_id, pressed)
        api_jobs.join(timeout=120)
        receiver.up = True
        remaining = SOAK_SECONDS - (time.monotonic() - up_at)
        if remaining > 0:
            time.sleep(remaining)
        wait_for(lambda: _quiet(demo.probe("facts")), 240, "every job and delivery to settle")
    finally:
        memory.stop()
        left = demo.stop(signal.SIGINT if "sqlite" in demo.env["DATABASE_URL"] else
                         signal.SIGTERM)
    facts = demo.probe("facts")
    log = demo.log()
    (tmp_path / "facts.json").write_text(json.dumps(facts, indent=1))
    minutes = (time.monotonic() - up_at) / 60
    print(f"\nsoak: {minutes:.1f} min after start-up ({(up_at - started):.0f} s to start), "
          f"{len(facts['jobs'])} jobs, {len(facts['deliveries'])} deliveries, killed {killed}")
    assert left == [], f"still running after the stop signal: {[command(p) for p in left]}"
    check_schedules(facts, log, minutes)
    check_log(log)
    check_jobs(facts, speed)
    check_deliveries(facts, receiver)
    check_memory(memory)


def _settled(progress: dict[str, Any]) -> bool:
    return progress.get("archive_status") in ("archived", "failed") or \
        progress.get("status") in ("failed", "cancelled")


def _quiet(facts: dict[str, Any]) -> bool:
    jobs_done = all(job["status"] in ("failed", "cancelled") or
                    job["archive_status"] in ("archived", "failed") for job in facts["jobs"])
    return jobs_done and all(d["status"] != "pending" for d in facts["deliveries"])


# --- What must hold -----------------------------------------------------------------------------


def check_schedules(facts: dict[str, Any], log: str, minutes: float) -> None:
    """Each schedule (every minute) ran about once a minute, and its next run moved on."""
    for name in SCHEDULE_NAMES:
        runs = log.count(f"from schedule [{name}]")
        print(f"  {name}: {runs} runs in {minutes:.1f} min")
        assert runs >= int(minutes) - 1, f"{name} ran {runs} times in {minutes:.1f} minutes"
        assert facts["schedules"][name]["next_run"] > time.time() - 90, f"{name} is stuck"


def check_log(log: str) -> None:
    """No traceback, no ERROR line; the one CRITICAL line is django-q2 replacing the worker
    this test killed."""
    bad = [line for line in log.splitlines()
           if ("Traceback" in line or " ERROR " in line or " CRITICAL " in line or
               line.startswith(("ERROR", "CRITICAL"))) and "reincarnated worker" not in line]
    assert bad == [], "\n".join(bad[:20])
    assert log.count("reincarnated worker") == 1


def check_jobs(facts: dict[str, Any], speed: dict[str, tuple[str, float]]) -> None:
    jobs = {job["id"]: job for job in facts["jobs"]}
    for job in jobs.values():
        assert job["status"] == "completed" and job["archive_status"] == "archived", job
    # The job whose worker was killed came back through the sweeper.
    [lost] = [job for job in jobs.values() if job["metadata"].get("soak") == "killed-mid-archive"]
    assert lost["workers_lost"] == 1 and lost["id"] in facts["released"]
    # Every catalog model, from "Save and submit" to a playable video.
    times = {model: jobs[job_id]["archived_at"] - pressed
             for model, (job_id, pressed) in speed.items()}
    print("  submit → archived, s: " + ", ".join(f"{m.split('/')[-1]} {t:.1f}"
                                                  for m, t in sorted(times.items())))
    slow = {model: round(t, 1) for model, t in times.items() if t > DEMO_SPEED_LIMIT}
    assert slow == {}
    # No file in storage that no job names (the demo's own upload stash aside).
    named = {job[key] for job in jobs.values() for key in ("video", "poster") if job[key]}
    orphans = [name for name in facts["files"] if name not in named]
    assert orphans == []


def check_deliveries(facts: dict[str, Any], receiver: Receiver) -> None:
    """Failed deliveries were retried about 5 s later (docs/webhooks.md) and delivered after
    the receiver came back; every event arrived under one webhook-id."""
    retried = 0
    for delivery in facts["deliveries"]:
        assert delivery["status"] == "succeeded", delivery
        attempts, codes = delivery["attempts"], delivery["codes"]
        if codes[0] == 503 and len(attempts) > 1:
            gap = attempts[1] - attempts[0]
            assert 3.0 <= gap <= 15.0, f"first retry after {gap:.1f} s: {delivery}"
            retried += 1
    assert retried > 0, "the receiver's outage failed no delivery"
    ids: dict[tuple[str, str], set[str]] = {}
    for receipt in receiver.receipts:
        ids.setdefault((receipt.job, receipt.type), set()).add(receipt.webhook_id)
    by_event = {(d["event"]) for d in facts["deliveries"]}
    assert len({r.webhook_id for r in receiver.receipts}) == len(by_event)
    print(f"  deliveries: {len(facts['deliveries'])}, {retried} retried after a 503")


def check_memory(memory: Memory) -> None:
    """RSS per kind of process: the last sample against the one a minute in."""
    samples = memory.samples
    assert len(samples) >= 6
    early, late = samples[5][1], samples[-1][1]
    for role in sorted(late):
        print(f"  RSS {role}: {early.get(role, 0) / 1024:.0f} MiB at "
              f"{samples[5][0]:.0f} s → {late[role] / 1024:.0f} MiB at {samples[-1][0]:.0f} s")
        if role in early:
            assert late[role] <= early[role] * 1.5 + 64 * 1024, role
