"""Template tags for host pages: ``{% load videogen %}{% videogen_player job %}``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

MIME_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}


@register.inclusion_tag("videogen/player.html")
def videogen_player(job: Any, *, controls: bool = True, autoplay: bool = False,
                    muted: bool = False, loop: bool = False, css_class: str = "",
                    width: int | None = None) -> dict[str, Any]:
    """An HTML5 ``<video>`` for the job's archived file, with its poster; a short notice while
    the video is not archived yet. Override ``videogen/player.html`` to change the markup."""
    ready = bool(job is not None and getattr(job, "video", None))
    return {
        "job": job, "ready": ready, "controls": controls, "autoplay": autoplay,
        "muted": muted or autoplay,  # browsers only autoplay muted video
        "loop": loop, "css_class": css_class, "width": width or (job.video_width if ready
                                                                 else None),
        "mime_type": MIME_TYPES.get(getattr(job, "video_container", "") or "", "video/mp4"),
    }
