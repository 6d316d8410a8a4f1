"""The public API as a host site uses it, against the sandbox."""

import asyncio
import base64
import io

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connections
from django.template import Context, Template

import videogen
from tests.enqueued import record_tasks
from videogen import api
from videogen.models import ArchiveStatus, Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(autouse=True)
def _quick(videogen_sandbox_settings, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"MIN_INTERVAL": 0.2},
                         "MODELS": {"google/veo-2.0": {"typical_generation_seconds": 0.5}}}


def test_generate_for_an_object_and_wait(videogen_sandbox_settings):
    owner = get_user_model().objects.create(username="product-42")
    job = videogen.generate(model="google/veo-2.0", prompt="a rotating kettle", seconds=1,
                            width=1280, height=720, fps=8, for_object=owner,
                            created_by=owner, metadata={"campaign": "spring"})
    assert job.status == Status.QUEUED and job.seconds == "1"
    progress = []
    job = videogen.wait(job, timeout=60, on_progress=lambda j, t: progress.append(j.status),
                        interval=0.1)
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.video_width == 1280
    assert progress[0] == Status.QUEUED and progress[-1] == Status.COMPLETED
    assert list(VideoJob.objects.for_object(owner)) == [job]
    assert job.content_object == owner and job.created_by == owner


@pytest.mark.parametrize("kind", ["path", "bytes", "file", "django_file", "url"])
def test_images_in_every_form(kind, tmp_path):
    path = tmp_path / "first.png"
    path.write_bytes(PNG)
    image = {"path": str(path), "bytes": PNG, "file": io.BytesIO(PNG),
             "django_file": ContentFile(PNG, name="first.png"),
             "url": "https://example.com/first.png"}[kind]
    job = api.create(model="google/veo-2.0", prompt="a kettle", images={"first": image})
    frame = job.media["frame_images"][0]
    assert frame["frame"] == "first"
    expected = image if kind == "url" else base64.b64encode(PNG).decode()
    assert frame["input_image"] == expected


def test_invalid_requests_save_nothing_and_name_the_field():
    with pytest.raises(api.InvalidRequest) as error:
        api.create(model="google/veo-3.0", prompt="a kettle", width=640, height=480)
    assert str(error.value).startswith("width: google/veo-3.0 supports 1280x720")
    with pytest.raises(api.InvalidRequest, match="colour: unknown field"):
        api.create(model="google/veo-3.0", prompt="a kettle", colour="red")
    with pytest.raises(api.InvalidRequest, match="image must be PNG, JPEG or WEBP"):
        api.create(model="google/veo-2.0", prompt="a kettle", images={"first": b"GIF89a..."})
    # A model that needs an input (the catalog's required_media) refuses without it.
    with pytest.raises(api.InvalidRequest, match="wan2.7-videoedit needs source_video"):
        api.create(model="Wan-AI/wan2.7-videoedit", prompt="make it night")
    assert not VideoJob.objects.exists()


def test_async_variants(videogen_sandbox_settings):
    async def scenario():
        try:
            job = await videogen.acreate(model="google/veo-2.0", prompt="async kettle",
                                         seconds=1, width=1280, height=720, fps=8)
            job = await videogen.asubmit(job)
            return await videogen.await_job(job, timeout=60, interval=0.1)
        finally:
            # The ORM ran on asgiref's thread-sensitive worker thread: close its connection,
            # as a request's end would, or PostgreSQL cannot drop the test database at exit.
            await sync_to_async(connections.close_all, thread_sensitive=True)()

    job = asyncio.run(scenario())
    assert job.archive_status == ArchiveStatus.ARCHIVED


def test_wait_times_out_without_stopping_the_job(videogen_sandbox_settings):
    videogen_sandbox_settings.configure(time_scale=1)
    job = videogen.generate(model="google/veo-2.0", prompt="a slow kettle", seconds=1)
    with pytest.raises(videogen.WaitTimeout, match="is still queued"):
        videogen.wait(job, timeout=0.3, interval=0.1)
    job.refresh_from_db()
    assert job.status in (Status.QUEUED, Status.IN_PROGRESS)


def test_player_tag(videogen_sandbox_settings):
    job = videogen.generate(model="google/veo-2.0", prompt="a kettle on a table", seconds=1,
                            width=1280, height=720, fps=8)
    template = Template("{% load videogen %}{% videogen_player job autoplay=True %}")
    pending = template.render(Context({"job": job}))
    assert "videogen-player--waiting" in pending and "<video" not in pending
    job = videogen.wait(job, timeout=60, interval=0.1)
    html = template.render(Context({"job": job}))
    assert f'src="{job.video.url}"' in html and f'poster="{job.poster.url}"' in html
    assert "autoplay" in html and "muted" in html and 'type="video/mp4"' in html
    assert 'width="1280"' in html and 'height="720"' in html and "style=" not in html


def test_names_are_reachable_from_the_package():
    assert videogen.generate is api.generate and "await_job" in dir(videogen)
    with pytest.raises(AttributeError):
        videogen.no_such_thing  # noqa: B018


def test_wait_bounds_an_archive_it_does_itself(videogen_sandbox_settings, monkeypatch):
    # The video trickles in a byte every half second: wait() stops at its timeout, and the
    # archive goes back to the task queue instead of failing.
    import time

    queued = record_tasks(monkeypatch, "submit_job", "archive_job").calls
    videogen_sandbox_settings.faults.add("trickle", ms=500, count=1)
    job = videogen.generate(model="google/veo-2.0", prompt="a slow download", seconds=1)
    started = time.monotonic()
    with pytest.raises(videogen.WaitTimeout):
        videogen.wait(job, timeout=3, interval=0.1)
    assert time.monotonic() - started < 6
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.PENDING
    assert ("archive_job", str(job.pk)) in queued
    assert "stopped waiting" in job.events.last().detail


@pytest.mark.parametrize("explicit", [False, True])
def test_without_an_api_key_nothing_is_sent_and_the_job_stays_a_draft(
        videogen_sandbox_settings, settings, monkeypatch, explicit):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    videogen_config = {k: v for k, v in settings.VIDEOGEN.items() if k != "API_KEY"}
    if explicit:
        # Set to None on purpose: the environment variable is then not read, and the hint says so.
        monkeypatch.setenv("TOGETHER_API_KEY", "sk-in-the-environment")
        videogen_config["API_KEY"] = None
    settings.VIDEOGEN = videogen_config
    from videogen.lifecycle import NotConfigured

    with pytest.raises(NotConfigured, match="No Together API key is configured") as error:
        videogen.generate(model="google/veo-2.0", prompt="a kettle", seconds=1)
    job = VideoJob.objects.get()
    assert job.status == Status.DRAFT and not job.error_code
    assert videogen_sandbox_settings.jobs() == []
    if explicit:
        assert "VIDEOGEN['API_KEY'] is set to an empty value" in str(error.value)
        assert "sk-in-the-environment" not in str(error.value)
    else:
        assert "Set VIDEOGEN['API_KEY'] or the TOGETHER_API_KEY" in str(error.value)
    # The admin's queued submit refuses up front too, rather than queueing a 401.
    from videogen import lifecycle

    with pytest.raises(NotConfigured):
        lifecycle.request_submit(job)
    job.refresh_from_db()
    assert job.submit_requested_at is None


def test_the_catalogs_warnings_reach_the_caller(videogen_sandbox_settings):
    # veo-2.0's table lists 5 s: 2 s is sent, with a warning the caller sees.
    with pytest.warns(api.RequestWarning, match="documented for 5 s") as caught:
        job = videogen.generate(model="google/veo-2.0", prompt="a kettle", seconds=2)
    assert issubclass(api.RequestWarning, UserWarning)
    assert caught[0].filename == api.__file__  # generate() is the line that called create()
    assert job.status == Status.QUEUED
    assert job.request_warnings == [str(caught[0].message)]
    assert "seconds" in job.request_warnings[0]
    quiet = videogen.create(model="google/veo-2.0", prompt="a kettle", seconds=5)
    assert quiet.request_warnings == []


def test_the_docs_reference_images_example_is_sent_with_a_warning(videogen_sandbox_settings):
    """together-video's "Reference Images" example: hailuo-02, whose table lists no references."""
    with pytest.warns(api.RequestWarning, match="table lists no reference_images"):
        job = videogen.generate(model="minimax/hailuo-02", prompt="A cat dancing energetically",
                                media={"reference_images": ["https://example.com/cat.jpg"]})
    assert job.status == Status.QUEUED and job.remote_id
    assert job.media == {"reference_images": ["https://example.com/cat.jpg"]}
