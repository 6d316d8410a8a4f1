"""P3: archiving a 1 GiB video: peak RSS growth of the archiving process, and throughput
against `curl` downloading the same URL to the same disk, side by side.

    .venv/bin/python bench/p3_archive_memory.py [--gib 1] [--rounds 2]

Targets: RSS growth <= 64 MiB; archive throughput >= 70 % of curl's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, SandboxProcess, save

from videogen.client import VideoClient

# Runs in a fresh process: set up, note RSS, reset the high-water mark, archive, read it.
CHILD = """
import json, sys, time
sys.path.insert(0, {bench!r})
from common import setup_django
setup_django({url!r})
from django.utils import timezone
from videogen import archive
from videogen.models import ArchiveStatus, Status, VideoJob

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

job = VideoJob.objects.create(model="google/veo-2.0", prompt="big", remote_id="bench",
                              status=Status.COMPLETED, archive_status=ArchiveStatus.PENDING,
                              provider_video_url={video_url!r}, finished_at=timezone.now())
import av, httpx  # loaded before the baseline: their code is not the archive's memory
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
started = time.perf_counter()
outcome = archive.archive_job(job.pk)
elapsed = time.perf_counter() - started
job.refresh_from_db()
print(json.dumps({{"outcome": outcome, "seconds": elapsed, "bytes": job.video_bytes,
                  "rss_before": before, "rss_peak": status("VmHWM"),
                  "error": job.archive_error}}))
"""


def curl_seconds(url: str, directory: str) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", "-o", f"{directory}/curl.bin", url], check=True)
    return time.perf_counter() - started


def archive_run(url: str, video_url: str) -> dict:
    code = CHILD.format(bench=str(ROOT / "bench"), url=url, video_url=video_url)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = int(args.gib * 1024**3)
    with SandboxProcess("--time-scale", "0", "--pad-to-bytes", str(size)) as sandbox, \
            tempfile.TemporaryDirectory() as directory:
        with VideoClient(api_key="bench", base_url=sandbox.url) as client:
            job = client.create({"model": "google/veo-2.0", "prompt": "big", "seed": 1})
            video_url = client.retrieve(job.id).video_url
        curls, archives = [], []
        for _ in range(args.rounds):
            curls.append(curl_seconds(video_url, directory))
            archives.append(archive_run(sandbox.url, video_url))
    growth = max(a["rss_peak"] - a["rss_before"] for a in archives)
    curl_s = statistics.median(curls)
    archive_s = statistics.median(a["seconds"] for a in archives)
    save("p3", {"bytes": size, "outcomes": [a["outcome"] for a in archives],
                "rss_growth_mib": round(growth / 2**20, 1),
                "curl_s_median": round(curl_s, 2), "archive_s_median": round(archive_s, 2),
                "curl_mib_s": round(size / curl_s / 2**20), "archive_mib_s":
                round(size / archive_s / 2**20), "archive_vs_curl": round(curl_s / archive_s, 2),
                "targets": "rss_growth <= 64 MiB, archive_vs_curl >= 0.7"})


if __name__ == "__main__":
    main()
