"""P3: archiving a 1 GiB video: peak memory of the archiving process, and throughput against
``curl`` fetching the same URL, side by side.

The sandbox pads the clip to exactly 1 GiB (``--pad-to-bytes``; the padding is streamed, not
stored). Each round runs, in alternating order: ``curl -o <file>`` (same disk as the storage),
``curl -o /dev/null``, and ``archive.archive_job`` in a fresh process (this script with
``--child``: Django on a throwaway database, ``FileSystemStorage`` in a temp dir), once as
shipped (download into the storage's folder, moved into place) and once as for storage without
local paths such as S3 (spooled temporary file, copied by ``save``). The child
notes VmRSS, resets the high-water mark (``/proc/self/clear_refs``), archives, and reads VmHWM;
it also times the archive's phases (download + sha256 into the spool, PyAV probe + poster,
storage save). Dirty pages are flushed (``sync``) before each timed step.

Targets: RSS growth <= 64 MiB; archive throughput >= 70 % of curl's.

    .venv/bin/python bench/p3_archive_memory.py [--mib 1024] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import ROOT, Sandbox, save, table, timed

MIB = 2**20
SCRIPT = Path(__file__).resolve()


# --- The child: one archive in a fresh process -----------------------------------------------


def memory(field: str) -> int:
    """VmRSS / VmHWM of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def timed_phases(archive: Any) -> dict[str, float]:
    """Wrap the archive's three phases (module globals, looked up at call time); note the
    time spent in each and the high-water mark at its end."""
    seconds = {"download_s": 0.0, "probe_s": 0.0, "store_s": 0.0}
    for phase, name in (("download_s", "stream_to_file"), ("probe_s", "probe_file"),
                        ("store_s", "_store")):
        original = getattr(archive, name)

        def wrapper(*args: Any, _original: Any = original, _phase: str = phase) -> Any:
            result, elapsed = timed(_original, *args)
            seconds[_phase] += elapsed
            seconds[_phase.replace("_s", "_hwm")] = memory("VmHWM")
            return result

        setattr(archive, name, wrapper)
    return seconds


def child(sandbox_url: str, video_url: str, variant: str) -> None:
    from common import setup_django

    setup_django(sandbox_url)
    import av  # noqa: F401  (libraries loaded before the baseline: code, not archive memory)
    from django.utils import timezone

    from videogen import archive
    from videogen.models import ArchiveStatus, Status, VideoJob

    if variant == "no_paths":
        # As for storage without local paths (S3): spooled temp file, copied by save().
        archive.partial_directory = lambda: None

    job = VideoJob.objects.create(
        model="google/veo-2.0", prompt="a large archive", remote_id="bench-p3",
        status=Status.COMPLETED, archive_status=ArchiveStatus.PENDING,
        provider_video_url=video_url, finished_at=timezone.now())
    phases = timed_phases(archive)
    rss_before = memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    os.sync()
    outcome, seconds = timed(archive.archive_job, job.pk)
    for phase in ("download_hwm", "probe_hwm", "store_hwm"):
        phases[phase] = round((phases.get(phase, 0) - rss_before) / MIB, 1)
    job.refresh_from_db()
    ok = job.video_bytes == job.video.size and archive.verify_stored(job)
    print(json.dumps({"outcome": outcome, "error": job.archive_error, "bytes": job.video_bytes,
                      "verified": ok,
                      "seconds": seconds, "rss_before": rss_before, "hwm": memory("VmHWM"),
                      "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      **phases}))


# --- The parent: curl and the archive, alternating -----------------------------------------


def run_curl(url: str, target: str) -> float:
    os.sync()
    _, seconds = timed(subprocess.run, ["curl", "-sSf", "-o", target, url], check=True)
    if target != "/dev/null":
        os.remove(target)
    return seconds


def run_archive(sandbox_url: str, video_url: str, variant: str) -> dict[str, Any]:
    os.sync()
    command = [sys.executable, str(SCRIPT), "--child", sandbox_url, video_url, variant]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["outcome"] != "archived" or not result["verified"]:
        raise RuntimeError(f"archive {result['outcome']}: {result['error']}")
    return result


def video_url(sandbox: Sandbox) -> str:
    from videogen.client import VideoClient

    with VideoClient(api_key="bench-key", base_url=sandbox.url) as client:
        remote = client.create({"model": "google/veo-2.0", "prompt": "a large archive",
                                "seed": 3})
        return client.retrieve(remote.id).video_url or ""


def one_round(number: int, urls: tuple[str, str], directory: str) -> dict[str, Any]:
    sandbox_url, url = urls
    steps = {"curl_file": lambda: run_curl(url, f"{directory}/curl.bin"),
             "curl_null": lambda: run_curl(url, "/dev/null"),
             "archive": lambda: run_archive(sandbox_url, url, "shipped"),
             "no_paths": lambda: run_archive(sandbox_url, url, "no_paths")}
    order = list(steps) if number % 2 == 0 else list(reversed(steps))
    return {name: steps[name]() for name in order}


VARIANTS = ("archive", "no_paths")


def growth_mib(result: dict[str, Any]) -> float:
    return round((result["hwm"] - result["rss_before"]) / MIB, 1)


def summarise(rounds: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """Medians over the rounds; throughput relative to curl's median."""
    curl_file = statistics.median(r["curl_file"] for r in rounds)
    curl_null = statistics.median(r["curl_null"] for r in rounds)
    result: dict[str, Any] = {"curl_file_s": round(curl_file, 2),
                              "curl_file_mib_s": round(size / MIB / curl_file),
                              "curl_null_s": round(curl_null, 2),
                              "curl_null_mib_s": round(size / MIB / curl_null)}
    for variant in VARIANTS:
        runs = [r[variant] for r in rounds]
        seconds = statistics.median(run["seconds"] for run in runs)
        result[variant] = {
            "rss_growth_mib_max": max(growth_mib(run) for run in runs),
            "seconds": round(seconds, 2), "mib_s": round(size / MIB / seconds),
            "vs_curl_file": round(curl_file / seconds, 2),
            "vs_curl_null": round(curl_null / seconds, 2),
            **{phase: round(statistics.median(run[phase] for run in runs), 2)
               for phase in ("download_s", "probe_s", "store_s")},
            **{f"growth_mib_after_{phase}": max(run[f"{phase}_hwm"] for run in runs)
               for phase in ("download", "probe", "store")}}
    return result


def rows(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per round and archive variant, for the printed table."""
    lines = []
    for number, r in enumerate(rounds, 1):
        for variant in VARIANTS:
            run = r[variant]
            lines.append({"round": number, "curl_file_s": round(r["curl_file"], 2),
                          "curl_null_s": round(r["curl_null"], 2),
                          "variant": "file system" if variant == "archive"
                          else "no local paths",
                          "archive_s": round(run["seconds"], 2),
                          "download_s": round(run["download_s"], 2),
                          "probe_s": round(run["probe_s"], 2),
                          "store_s": round(run["store_s"], 2),
                          "rss_growth_mib": growth_mib(run)})
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="download size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("SANDBOX_URL", "VIDEO_URL", "VARIANT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    size = args.mib * MIB
    with Sandbox("--time-scale", "0", "--pad-to-bytes", str(size)) as sandbox, \
            tempfile.TemporaryDirectory(prefix="videogen-bench-") as directory:
        urls = (sandbox.url, video_url(sandbox))
        rounds = [one_round(n, urls, directory) for n in range(args.rounds)]
    result = summarise(rounds, size)
    print(table(rows(rounds), list(rows(rounds)[0])))
    print(json.dumps(result, indent=1))
    save("p3", {"bytes": size, "rounds": rows(rounds), "medians": result,
                "disk": "curl's file and the storage are in the same temp directory tree",
                "targets": {"rss_growth_mib": "<= 64", "archive_vs_curl": ">= 0.70"}})


if __name__ == "__main__":
    main()
