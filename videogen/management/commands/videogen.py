"""``manage.py videogen``: generate, status, list, cancel and poll from the command line, and
move archives between storages."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import uuid
import warnings
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from videogen import api, jsondata, lifecycle, moving, polling
from videogen.media import KEYFRAMES
from videogen.models import REQUEST_FIELDS, Status, VideoJob
from videogen.progress import duration_text
from videogen.storage import UnknownStorage

INT_FIELDS = ("width", "height", "fps", "steps", "seed", "output_quality")
# The most jobs one `list` shows (a larger number is no database's integer either).
MAX_LIST = 10_000


class Command(BaseCommand):
    help = _("Generate videos and manage videogen jobs.")

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        generate = commands.add_parser("generate", help=_("create and submit a job"))
        generate.add_argument("--model", required=True)
        generate.add_argument("--prompt")
        generate.add_argument("--negative-prompt")
        for name in INT_FIELDS:
            generate.add_argument(f"--{name.replace('_', '-')}", type=int)
        generate.add_argument("--seconds")
        generate.add_argument("--guidance-scale", type=float)
        generate.add_argument("--output-format", choices=["MP4", "WEBM", "mp4", "webm"])
        generate.add_argument("--generate-audio", action="store_true", default=None)
        generate.add_argument("--resolution")
        generate.add_argument("--ratio")
        generate.add_argument("--image", action="append", default=[], metavar="POSITION=PATH",
                              help=_("keyframe image, e.g. first=photo.png (or a URL)"))
        generate.add_argument("--media", help=_("media object as JSON"))
        generate.add_argument("--wait", action="store_true", help=_("wait and show progress"))
        generate.add_argument("--timeout", type=_timeout, default=900,
                              help=_("seconds --wait waits in all, archive included"))
        generate.add_argument("--out", help=_("copy the archived video here (implies --wait)"))
        generate.add_argument("--json", action="store_true", help=_("print the job as JSON"))
        status = commands.add_parser("status", help=_("show one job"))
        status.add_argument("job_id")
        status.add_argument("--json", action="store_true")
        listing = commands.add_parser("list", help=_("list recent jobs"))
        listing.add_argument("--status", choices=Status.values)
        listing.add_argument("--limit", type=_positive_int, default=20,
                             help=_("at most %(max)d") % {"max": MAX_LIST})
        listing.add_argument("--json", action="store_true")
        cancel = commands.add_parser("cancel", help=_("cancel a job"))
        cancel.add_argument("job_id")
        commands.add_parser("poll", help=_("run one poll cycle over due jobs now"))
        move = commands.add_parser(
            "move-archives", help=_("move every archive (video and poster) to another storage"))
        move.add_argument("--to", required=True, metavar="ALIAS", dest="target",
                          help=_("the STORAGES alias to move them to"))
        move.add_argument("--dry-run", action="store_true",
                          help=_("list what would move and change nothing"))

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action.replace('-', '_')}")(**options)

    # --- actions -----------------------------------------------------------------------------

    def do_generate(self, **options: Any) -> None:
        fields: dict[str, Any] = {name: options.get(name) for name in REQUEST_FIELDS
                                  if name != "media"}
        fields = {k: v for k, v in fields.items() if v is not None}
        if fields.get("output_format"):
            fields["output_format"] = fields["output_format"].upper()
        if options["media"]:
            fields["media"] = _json_option("--media", options["media"])
        if options["out"]:
            _check_out_folder(options["out"])
        try:
            with warnings.catch_warnings():  # printed below, not twice by Python
                warnings.simplefilter("ignore", api.RequestWarning)
                job = api.create(images=_images(options["image"]), **fields)
        except api.InvalidRequest as error:
            raise CommandError("\n".join(str(p) for p in error.problems)) from None
        for warning in getattr(job, "request_warnings", []):
            self.stderr.write(_("Warning: %(warning)s") % {"warning": warning})
        try:
            job = api.submit(job)
        except lifecycle.LifecycleError as error:
            raise CommandError(_("%(error)s Job %(id)s stays a draft.") % {
                "error": error, "id": job.pk}) from None
        if not options["json"]:
            self.stdout.write(_("Job %(id)s: %(status)s") % {"id": job.pk,
                                                              "status": job.status})
        if options["wait"] or options["out"]:
            job = self._wait(job, options["timeout"], quiet=options["json"])
        self._finish(job, options)

    def do_status(self, job_id: str, json: bool = False, **options: Any) -> None:
        job = _get(job_id)
        self.stdout.write(_as_json(job) if json else _describe(job))

    def do_list(self, status: str | None, limit: int, json: bool = False, **options: Any
                ) -> None:
        matching = VideoJob.objects.all()
        if status:
            matching = matching.filter(status=status)
        jobs = list(matching[:limit])
        if json:
            self.stdout.write("[" + ",".join(_as_json(job) for job in jobs) + "]")
            return
        for job in jobs:
            self.stdout.write(f"{job.pk}  {job.status:<11}  {job.model:<32}  "
                              f"{(job.prompt or '')[:40]}")

    def do_cancel(self, job_id: str, **options: Any) -> None:
        try:
            job = api.cancel(_get(job_id))
        except lifecycle.LifecycleError as error:
            raise CommandError(str(error)) from None
        note = _(" (the provider may still finish it)") if job.remote_may_finish else ""
        self.stdout.write(_("Job %(id)s cancelled%(note)s.") % {"id": job.pk, "note": note})

    def do_poll(self, **options: Any) -> None:
        report = polling.run_loop(wait=False)
        self.stdout.write(_("Polled %(n)d job(s): %(changed)d changed, %(errors)d errors.")
                          % {"n": report.polled, "changed": report.changed,
                             "errors": report.errors})

    def do_move_archives(self, target: str, dry_run: bool = False, **options: Any) -> None:
        try:
            moving.check_alias(target)
        except UnknownStorage as error:
            raise CommandError(str(error)) from None
        total = moving.count_to_move(target)
        if dry_run:
            self._list_moves(target, total)
            return
        bar = _MoveBar(self.stderr, total)
        moved, failed = 0, []
        try:
            for plan in moving.to_move(target):
                try:
                    moving.move_job(plan, target)
                    moved += 1
                except moving.MoveError as error:
                    failed.append(str(plan.job.pk))
                    bar.note(_("Job %(id)s not moved: %(why)s") % {"id": plan.job.pk,
                                                                   "why": error})
                bar.update(moved, len(failed))
        except KeyboardInterrupt:
            bar.end()
            self.stderr.write(ngettext(
                "Interrupted after moving %(n)d archive. Every job still points to a complete "
                "copy; run the command again to continue.",
                "Interrupted after moving %(n)d archives. Every job still points to a complete "
                "copy; run the command again to continue.", moved) % {"n": moved})
            sys.exit(130)
        bar.end()
        self.stdout.write(ngettext("Moved %(n)d archive to %(alias)s.",
                                   "Moved %(n)d archives to %(alias)s.", moved)
                          % {"n": moved, "alias": target})
        if failed:
            raise CommandError(ngettext("%(n)d archive not moved (said above): %(ids)s",
                                        "%(n)d archives not moved (said above): %(ids)s",
                                        len(failed)) % {"n": len(failed), "ids": ", ".join(failed)})

    def _list_moves(self, target: str, total: int) -> None:
        for plan in moving.to_move(target):
            self.stdout.write(f"{plan.job.pk}  {plan.source} -> {target}  "
                              + ", ".join(plan.names))
        self.stdout.write(ngettext(
            "Dry run: %(n)d archive would move to %(alias)s; nothing changed.",
            "Dry run: %(n)d archives would move to %(alias)s; nothing changed.", total)
            % {"n": total, "alias": target})

    # --- waiting -----------------------------------------------------------------------------

    def _wait(self, job: VideoJob, timeout: float, quiet: bool) -> VideoJob:
        progress = _Progress(self.stdout, api.expected_seconds(job), quiet)
        try:
            job = api.wait(job, timeout=timeout, on_progress=progress)
        except KeyboardInterrupt:
            progress.end()
            self.stderr.write(_("Stopped waiting. Job %(id)s keeps running; follow it with: "
                                "python manage.py videogen status %(id)s") % {"id": job.pk})
            sys.exit(130)
        except api.WaitTimeout as error:
            progress.end()
            raise CommandError(str(error) + _("; it keeps running.")) from None
        progress.end()
        return job

    def _finish(self, job: VideoJob, options: dict[str, Any]) -> None:
        if options["out"]:
            if not job.video:
                raise CommandError(_("Job %(id)s has no archived video: %(why)s") % {
                    "id": job.pk, "why": job.error_message or job.archive_error or job.status})
            _copy_video(job, options["out"])
            if not options["json"]:
                self.stdout.write(_("Wrote %(path)s (%(size)d bytes).") % {
                    "path": options["out"], "size": job.video_bytes or 0})
        if options["json"]:
            self.stdout.write(_as_json(job))
        elif options["wait"] or options["out"]:
            self.stdout.write(_describe(job))
        if job.status == Status.FAILED or job.archive_error:
            raise CommandError(job.error_message or job.archive_error)


def _copy_video(job: VideoJob, path: str) -> None:
    try:
        with job.video.open("rb") as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
    except UnknownStorage as error:
        raise CommandError(_("--out: job %(id)s's archive cannot be read: %(error)s") % {
            "id": job.pk, "error": error}) from None
    except OSError as error:
        raise CommandError(_("--out: cannot write %(path)s (%(error)s); the video stays "
                             "archived in job %(id)s.") % {
            "path": path, "error": error.strerror or error, "id": job.pk}) from None


class _Progress:
    """One updating line on a terminal; one line per status change otherwise."""

    def __init__(self, stream: Any, expected: float, quiet: bool) -> None:
        self.stream, self.expected, self.quiet = stream, expected, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_status = ""

    def __call__(self, job: VideoJob, elapsed: float) -> None:
        if self.quiet:
            return
        label = job.status if job.status != Status.COMPLETED else f"archive {job.archive_status}"
        if self.tty:
            done = min(elapsed / self.expected, 0.99) if self.expected else 0
            bar = "#" * int(done * 24)
            self.stream.write(f"\r[{bar:<24}] {label:<18} {duration_text(elapsed)} / "
                              f"~{duration_text(self.expected)}", ending="")
            self.stream.flush()
        elif label != self.last_status:
            self.stream.write(f"{duration_text(elapsed)}  {label}")
        self.last_status = label

    def end(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("")


class _MoveBar:
    """``12/40 moved`` on stderr: one updating line on a terminal, a line per job otherwise."""

    def __init__(self, stream: Any, total: int) -> None:
        self.stream, self.total = stream, total
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.update(0, 0)

    def update(self, moved: int, failed: int) -> None:
        done = moved + failed
        text = _("%(done)d/%(total)d moved") % {"done": moved, "total": self.total}
        if failed:
            text += " " + _("(%(n)d not moved)") % {"n": failed}
        if self.tty:
            filled = int(24 * done / self.total) if self.total else 24
            self.stream.write(f"\r[{'#' * filled:<24}] {text}", ending="")
            self.stream.flush()
        else:
            self.stream.write(text)

    def note(self, line: str) -> None:
        if self.tty:
            self.stream.write("")
        self.stream.write(line)

    def end(self) -> None:
        if self.tty:
            self.stream.write("")


def _images(pairs: list[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for pair in pairs:
        position, sep, path = pair.partition("=")
        if not sep or position not in KEYFRAMES:
            raise CommandError(_("--image takes first=PATH or last=PATH, got %(v)r") % {"v": pair})
        images[position] = path
    return images


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_LIST:
        raise argparse.ArgumentTypeError(_("must be a whole number from 1 to %(max)d, got %(v)r")
                                         % {"max": MAX_LIST, "v": value[:20]})
    return number


def _timeout(value: str) -> float:
    # Checked before anything is sent: NaN would never time out, and 0 or less would send a
    # job only to report it still queued.
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(_("must be a number of seconds above 0, got %(v)r")
                                         % {"v": value[:20]})
    return seconds


def _check_out_folder(path: str) -> None:
    # Before the job is sent: a typo in the folder must not cost a paid generation.
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError(_("--out: the folder %(folder)s does not exist.") % {"folder": folder})


def _json_option(name: str, value: str) -> Any:
    try:
        return json.loads(value, cls=jsondata.DepthSafeDecoder)
    except json.JSONDecodeError as error:
        raise CommandError(_("%(name)s is not valid JSON: %(error)s") % {
            "name": name, "error": error}) from None


def _get(job_id: str) -> VideoJob:
    try:
        return VideoJob.objects.get(pk=uuid.UUID(job_id))
    except (ValueError, VideoJob.DoesNotExist):
        raise CommandError(_("No job with id %(id)s.") % {"id": job_id}) from None


def _describe(job: VideoJob) -> str:
    lines = [f"{job.pk}  {job.model}", f"  status: {job.status}"]
    if job.archive_status:
        lines.append(f"  archive: {job.archive_status}")
    if job.video:
        lines.append(f"  video: {job.video.name} ({_video_facts(job)})")
    if job.error_message or job.archive_error:
        lines.append(f"  error: {job.error_message or job.archive_error}")
    return "\n".join(lines)


def _video_facts(job: VideoJob) -> str:
    """What is known of the file: without PyAV (the "media" extra) only its size is."""
    facts = [f"{job.video_bytes} bytes"]
    if job.video_width and job.video_height:
        facts.append(f"{job.video_width}x{job.video_height}")
    if job.video_duration is not None:
        facts.append(f"{job.video_duration} s")
    return ", ".join(facts)


def _as_json(job: VideoJob) -> str:
    data = {"id": job.pk, "remote_id": job.remote_id, "status": job.status,
            "archive_status": job.archive_status, "model": job.model, "prompt": job.prompt,
            "error_code": job.error_code, "error_message": job.error_message,
            "cost": job.cost, "video": job.video.name or None,
            "video_bytes": job.video_bytes, "video_sha256": job.video_sha256 or None,
            "created_at": job.created_at, "finished_at": job.finished_at}
    return json.dumps(data, cls=DjangoJSONEncoder)
