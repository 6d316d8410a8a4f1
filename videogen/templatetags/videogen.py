"""Template tags for host pages: ``{% load videogen %}{% videogen_player job %}``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template
from django.utils.translation import gettext_lazy as _

from videogen.models import ArchiveStatus, Status
from videogen.storage import storage_problem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from videogen.models import VideoJob

register = template.Library()

MIME_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}

# What the player says while there is no video to play: (state, message) per job status. The
# state names the CSS class ``videogen-player--<state>``; ``waiting`` or ``unavailable`` is
# added too, so a stylesheet can treat all the waits alike.
STATES: dict[str, tuple[str, StrOrPromise]] = {
    Status.DRAFT: ("draft", _("This video has not been requested yet.")),
    Status.SUBMITTING: ("submitting", _("The video is being requested…")),
    Status.QUEUED: ("queued", _("The video is waiting to be generated…")),
    Status.IN_PROGRESS: ("in-progress", _("The video is being generated…")),
    Status.COMPLETED: ("archiving", _("The video is being saved…")),
    Status.FAILED: ("failed", _("The video could not be generated.")),
    Status.CANCELLED: ("cancelled", _("The video was cancelled.")),
}
ARCHIVE_FAILED = ("archive-failed", _("The video could not be saved."))
# The archive's storage alias was taken out of STORAGES (logged for the site's staff).
STORAGE_MISSING = ("storage-missing", _("The video is not available right now."))
UNAVAILABLE = {"failed", "cancelled", "archive-failed", "storage-missing"}


@register.inclusion_tag("videogen/player.html")
def videogen_player(job: VideoJob | None, *, controls: bool = True, autoplay: bool = False,
                    muted: bool = False, loop: bool = False, css_class: str = "",
                    width: int | None = None) -> dict[str, Any]:
    """An HTML5 ``<video>`` for the job's archived file, with its poster and its width and
    height (so the page keeps its aspect ratio); while there is none, a notice saying why.
    ``None`` renders nothing. No inline style: the sizing rules are in ``videogen/player.css``.
    Override ``videogen/player.html`` to change the markup."""
    if job is None:
        return {"job": None}
    ready = bool(getattr(job, "video", None))
    message: StrOrPromise
    if ready and storage_problem(job):
        ready, (state, message) = False, STORAGE_MISSING
    else:
        state, message = ("ready", "") if ready else _waiting_state(job)
    box_width, box_height = _size(job, width)
    return {
        "job": job, "ready": ready, "state": state, "message": message,
        "classes": _classes(state, css_class, fit=width is None),
        "controls": controls, "autoplay": autoplay,
        "muted": muted or autoplay,  # browsers only autoplay muted video
        "loop": loop, "css_class": css_class, "width": box_width, "height": box_height,
        "mime_type": MIME_TYPES.get(getattr(job, "video_container", "") or "", "video/mp4"),
    }


def _classes(state: str, css_class: str, *, fit: bool = False) -> str:
    if state == "ready":
        # "fit": no width asked for, so the box may shrink to keep a tall video on screen.
        names = ["videogen-player", "videogen-player--fit"] if fit else ["videogen-player"]
    else:
        group = "unavailable" if state in UNAVAILABLE else "waiting"
        names = ["videogen-player", f"videogen-player--{group}", f"videogen-player--{state}"]
    return " ".join([*names, *css_class.split()])


def _waiting_state(job: VideoJob) -> tuple[str, StrOrPromise]:
    if job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.FAILED:
        return ARCHIVE_FAILED
    return STATES.get(job.status, STATES[Status.IN_PROGRESS])


def _size(job: VideoJob, width: int | None) -> tuple[int | None, int | None]:
    """The archived video's size (the requested one until it is probed), scaled to ``width``
    when one is given: both attributes, so the browser reserves the right box."""
    natural_w = job.video_width or job.width
    natural_h = job.video_height or job.height
    if not (natural_w and natural_h):
        return width, None
    if not width:
        return natural_w, natural_h
    return width, round(width * natural_h / natural_w)
