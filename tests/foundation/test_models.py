"""Model constraints and helpers."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from videogen.models import JobEvent, Status, VideoJob
from videogen.storage import archive_name

pytestmark = pytest.mark.django_db


def test_remote_id_is_unique_but_many_jobs_may_have_none():
    VideoJob.objects.create(model="google/veo-2.0", prompt="a", remote_id="r-1")
    VideoJob.objects.create(model="google/veo-2.0", prompt="b")
    VideoJob.objects.create(model="google/veo-2.0", prompt="c")
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoJob.objects.create(model="google/veo-2.0", prompt="d", remote_id="r-1")


def test_status_outside_the_choices_is_refused_by_the_database():
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a")
    assert job.status == Status.DRAFT
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoJob.objects.filter(pk=job.pk).update(status="exploded")


def test_archive_status_outside_the_choices_is_refused():
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoJob.objects.filter(pk=job.pk).update(archive_status="lost")


def test_for_object_links_any_model():
    user = get_user_model().objects.create(username="owner")
    other = get_user_model().objects.create(username="other")
    job = VideoJob.objects.create(model="m", prompt="a", content_object=user)
    VideoJob.objects.create(model="m", prompt="b", content_object=other)
    assert list(VideoJob.objects.for_object(user)) == [job]
    assert VideoJob.objects.get(pk=job.pk).content_object == user


def test_events_belong_to_their_job_in_order():
    job = VideoJob.objects.create(model="m", prompt="a")
    JobEvent.objects.create(job=job, old_status="draft", new_status="submitting")
    JobEvent.objects.create(job=job, old_status="submitting", new_status="queued")
    assert [str(e) for e in job.events.all()] == ["Draft → Submitting", "Submitting → Queued"]


def test_str_and_request_fields():
    job = VideoJob(model="google/veo-2.0", prompt="A long prompt " * 10, width=1280, height=720)
    assert str(job).startswith("google/veo-2.0: A long prompt") and str(job).endswith("…")
    assert job.request_fields() == {"model": "google/veo-2.0", "prompt": job.prompt,
                                    "width": 1280, "height": 720}


def test_archive_names_follow_the_setting(settings):
    job = VideoJob(model="google/veo-2.0", prompt="a")
    job.created_at = datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
    assert archive_name(job, "mp4") == f"videogen/2026/03/{job.pk}.mp4"
    assert archive_name(job, "jpg", suffix="-poster") == f"videogen/2026/03/{job.pk}-poster.jpg"
    settings.VIDEOGEN = {"UPLOAD_TO": "clips/{model}/%Y/{id}.{ext}"}
    assert archive_name(job, ".webm") == f"clips/google-veo-2.0/2026/{job.pk}.webm"


def test_archive_storage_follows_the_alias(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "videos": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "videos")}}}
    settings.VIDEOGEN = {"STORAGE": "videos"}
    field = VideoJob._meta.get_field("video")
    name = field.storage.save("x/clip.mp4", __import__("io").BytesIO(b"data"))
    assert (tmp_path / "videos" / name).read_bytes() == b"data"
    assert field.storage.location == str(tmp_path / "videos")
