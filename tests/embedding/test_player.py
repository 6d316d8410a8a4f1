"""The player tag, state by state: what a host page shows for each job status, with no inline
style (a strict Content-Security-Policy blocks those) and the video's aspect ratio kept."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template

from videogen.models import ArchiveStatus, Status, VideoJob

PLAYER = Template("{% load videogen %}{% videogen_player job %}")


def render(job, template=PLAYER):
    return template.render(Context({"job": job})).strip()


def notice(**fields):
    """The waiting notice's classes and text for an unsaved job with these fields."""
    html = render(VideoJob(model="google/veo-2.0", width=1280, height=720, **fields))
    assert "<video" not in html and "style=" not in html
    classes = re.search(r'class="([^"]*)"', html).group(1).split()
    return set(classes), re.sub(r"<[^>]+>", "", html).strip()


@pytest.mark.parametrize(("fields", "state", "group", "text"), [
    ({"status": Status.DRAFT}, "draft", "waiting", "not been requested"),
    ({"status": Status.SUBMITTING}, "submitting", "waiting", "being requested"),
    ({"status": Status.QUEUED}, "queued", "waiting", "waiting to be generated"),
    ({"status": Status.IN_PROGRESS}, "in-progress", "waiting", "being generated"),
    ({"status": Status.COMPLETED, "archive_status": ArchiveStatus.ARCHIVING}, "archiving",
     "waiting", "being saved"),
    ({"status": Status.COMPLETED, "archive_status": ArchiveStatus.FAILED}, "archive-failed",
     "unavailable", "could not be saved"),
    ({"status": Status.FAILED}, "failed", "unavailable", "could not be generated"),
    ({"status": Status.CANCELLED}, "cancelled", "unavailable", "was cancelled"),
])
def test_each_status_has_its_own_state(fields, state, group, text):
    classes, shown = notice(**fields)
    assert classes == {"videogen-player", f"videogen-player--{group}", f"videogen-player--{state}"}
    assert text in shown


def test_no_job_renders_nothing():
    assert render(None) == ""


def archived(**fields):
    values = {"model": "google/veo-2.0", "status": Status.COMPLETED, "width": 1280,
              "height": 720, "archive_status": ArchiveStatus.ARCHIVED,
              "video": "videogen/2026/01/x.mp4", "poster": "videogen/2026/01/x-poster.jpg",
              "video_width": 640, "video_height": 360, "video_container": "mp4"} | fields
    return VideoJob(**values)


def test_archived_video_keeps_its_aspect_ratio_without_inline_style():
    html = render(archived())
    assert "<video" in html and "style=" not in html
    assert 'width="640"' in html and 'height="360"' in html  # the archived file's own size
    assert 'poster="/media/videogen/2026/01/x-poster.jpg"' in html


def test_a_given_width_scales_the_height():
    html = render(archived(), Template("{% load videogen %}{% videogen_player job width=320 %}"))
    assert 'width="320"' in html and 'height="180"' in html


def test_unprobed_video_uses_the_requested_size():
    html = render(archived(video_width=None, video_height=None))
    assert 'width="1280"' in html and 'height="720"' in html


def test_the_stylesheet_ships_with_the_app():
    css = open(finders.find("videogen/player.css")).read()  # noqa: SIM115
    assert "video.videogen-player" in css and "height: auto" in css
