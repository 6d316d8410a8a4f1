"""`manage.py videogen generate --wait --out FILE` and friends, against the sandbox."""

import json

import av
import pytest
from django.core.management import CommandError, call_command

from videogen.models import ArchiveStatus, Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_schedule(videogen_sandbox_settings, settings):
    # The sandbox finishes at once; poll as soon as the schedule allows.
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"MIN_INTERVAL": 0.2},
                         "MODELS": {"google/veo-2.0": {"typical_generation_seconds": 0.5}}}


def test_generate_waits_and_writes_the_archived_video(videogen_sandbox_settings, tmp_path,
                                                      capsys):
    # No cluster runs here: --wait polls and archives by itself.
    out = tmp_path / "clip.mp4"
    call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt",
                 "a lighthouse at dusk", "--width", "1280", "--height", "720", "--seconds", "1",
                 "--fps", "8", "--wait", "--out", str(out))
    job = VideoJob.objects.get()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.ARCHIVED
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.width == 1280
    text = capsys.readouterr().out
    assert f"Job {job.pk}: queued" in text and "archive archived" in text
    assert f"Wrote {out}" in text


def test_generate_json_and_status(videogen_sandbox_settings, capsys):
    call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                 "--seconds", "1", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "queued" and data["remote_id"]
    call_command("videogen", "status", data["id"], "--json")
    assert json.loads(capsys.readouterr().out)["id"] == data["id"]
    call_command("videogen", "list", "--status", "queued")
    assert data["id"] in capsys.readouterr().out
    call_command("videogen", "poll")
    assert "Polled" in capsys.readouterr().out
    call_command("videogen", "cancel", data["id"])
    assert "cancelled" in capsys.readouterr().out


def test_generate_refuses_bad_input_naming_the_field(videogen_sandbox_settings):
    with pytest.raises(CommandError, match="width: minimax/hailuo-02 supports 1366x768 or "
                                           "1920x1080, got 640x480"):
        call_command("videogen", "generate", "--model", "minimax/hailuo-02", "--prompt",
                     "a cat", "--width", "640", "--height", "480")
    assert not VideoJob.objects.exists()
    with pytest.raises(CommandError, match="--image takes first=PATH"):
        call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                     "--image", "middle=x.png")
    with pytest.raises(CommandError, match="No job with id nope"):
        call_command("videogen", "status", "nope")


def test_generate_with_a_first_frame_image(videogen_sandbox_settings, tmp_path):
    image = tmp_path / "first.png"
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 64, 64, "rgb24"
    frame = av.VideoFrame(64, 64, "rgb24")
    image.write_bytes(b"".join(bytes(p) for p in encoder.encode(frame)))
    call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                 "--seconds", "1", "--image", f"first={image}")
    job = VideoJob.objects.get()
    assert job.media["frame_images"][0]["frame"] == "first"
    assert job.status == Status.QUEUED


@pytest.mark.parametrize(("args", "message"), [
    (["list", "--limit", "-1"], "--limit: must be a whole number from 1"),
    (["list", "--limit", "0"], "--limit: must be a whole number from 1"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--media",
      '{"n": ' + "1" * 5000 + "}"], "--media is not valid JSON"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--media",
      "[" * 5000 + "]" * 5000], "--media is not valid JSON"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--out",
      "/no/such/folder/clip.mp4"], "--out: the folder /no/such/folder does not exist"),
])
def test_bad_options_are_refused_naming_the_option(videogen_sandbox_settings, args, message):
    """Each was a traceback: a negative slice, a ValueError or RecursionError out of
    json.loads, and (after the job had been paid for) FileNotFoundError writing --out."""
    with pytest.raises(CommandError, match=message.replace("[", r"\[")):
        call_command("videogen", *args)
    assert not VideoJob.objects.exists()


def test_a_failed_write_to_out_names_the_path_and_keeps_the_job(videogen_sandbox_settings,
                                                                tmp_path, monkeypatch):
    out = tmp_path / "clip.mp4"
    out.mkdir()  # a folder where the file should go: open() fails once the video is ready
    with pytest.raises(CommandError, match=f"--out: cannot write {out}.*stays archived"):
        call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                     "--seconds", "1", "--fps", "8", "--wait", "--out", str(out))
    job = VideoJob.objects.get()
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.video


def test_generate_wait_timeout_bounds_the_archive_too(videogen_sandbox_settings):
    import time

    videogen_sandbox_settings.faults.add("trickle", ms=500, count=1)
    started = time.monotonic()
    with pytest.raises(CommandError, match="keeps running"):
        call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt",
                     "a trickling lighthouse", "--seconds", "1", "--wait", "--timeout", "3")
    assert time.monotonic() - started < 8
    assert VideoJob.objects.get().archive_status == ArchiveStatus.PENDING


def test_generate_without_an_api_key_sends_nothing(videogen_sandbox_settings, settings,
                                                   monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    settings.VIDEOGEN = {k: v for k, v in settings.VIDEOGEN.items() if k != "API_KEY"}
    with pytest.raises(CommandError, match="No Together API key is configured") as error:
        call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                     "--seconds", "1")
    job = VideoJob.objects.get()
    assert job.status == Status.DRAFT and f"Job {job.pk} stays a draft." in str(error.value)
    assert videogen_sandbox_settings.jobs() == []


def test_status_shows_only_what_is_known_of_the_video(capsys):
    # Archived without PyAV (the "media" extra): the size is known, the dimensions are not.
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat",
                                  status=Status.COMPLETED, archive_status=ArchiveStatus.ARCHIVED,
                                  video="videogen/clip.mp4", video_bytes=2048)
    call_command("videogen", "status", str(job.pk))
    out = capsys.readouterr().out
    assert "video: videogen/clip.mp4 (2048 bytes)" in out and "None" not in out


def test_generate_sends_the_docs_reference_images_example(videogen_sandbox_settings, capsys):
    call_command("videogen", "generate", "--model", "minimax/hailuo-02", "--prompt",
                 "A cat dancing energetically", "--media",
                 '{"reference_images": ["https://example.com/cat.jpg"]}')
    err = capsys.readouterr().err
    assert "Warning: media.reference_images: minimax/hailuo-02's table lists no " \
           "reference_images" in err
    assert VideoJob.objects.get().status == Status.QUEUED


def test_generate_prints_the_catalogs_warnings(videogen_sandbox_settings, capsys):
    call_command("videogen", "generate", "--model", "google/veo-2.0", "--prompt", "a cat",
                 "--seconds", "2")
    err = capsys.readouterr().err
    assert "Warning: seconds: google/veo-2.0 is documented for 5 s" in err
    assert VideoJob.objects.get().status == Status.QUEUED
