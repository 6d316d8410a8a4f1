"""The job form: the catalog decides, each error names its field and what is allowed, images
are checked by size (before reading) and by their bytes, and a sent job is never edited."""

import base64
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_job
from videogen import upload_stash
from videogen.forms import JobForm
from videogen.models import Status, VideoJob

from .conftest import png_base64, png_bytes

pytestmark = pytest.mark.django_db

ADD = reverse("admin:videogen_videojob_add")


def form_data(**fields):
    data = {"model": "pixverse/pixverse-v5", "prompt": "a paper boat", "size": "360x360",
            "seconds": "5", "fps": "16", "generate_audio": "unknown", "metadata": "{}"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response):
    form = response.context["adminform"].form
    return {name: " ".join(errors) for name, errors in form.errors.items()}


def post(client, url=ADD, **fields):
    return client.post(url, form_data(**fields))


def image(name="frame.png", content=None, content_type="image/png"):
    return SimpleUploadedFile(name, content or png_bytes(), content_type=content_type)


# --- Validation per model: the catalog's words, on the right field -------------------------------

REFUSALS = [
    ({"model": "minimax/hailuo-02", "size": "1280x720", "seconds": "10", "fps": "25"}, "size",
     "MiniMax Hailuo 02 supports 1366x768 or 1920x1080, got 1280x720"),
    ({"model": "Wan-AI/wan2.7-r2v", "size": "", "resolution": "720P", "ratio": "16:9",
      "seconds": "12", "fps": ""}, "seconds",
     "Wan 2.7 reference-to-video makes clips of 2–10 seconds, got 12"),
    ({"prompt": "x" * 2049}, "prompt", "PixVerse v5 takes 2–2048 characters, got 2049"),
    ({"model": "google/veo-2.0", "prompt": "", "size": "1280x720", "seconds": "5",
      "fps": "24"}, "prompt", "Google Veo 2.0 requires a prompt (2–3000 characters)"),
    ({"model": "Wan-AI/wan2.7-t2v", "size": "", "resolution": "1080P", "ratio": "1:1",
      "fps": "", "negative_prompt": "n" * 501}, "negative_prompt",
     "Wan 2.7 text-to-video takes at most 500 characters, got 501"),
    ({"model": "Wan-AI/wan2.7-t2v", "size": "", "resolution": "720P", "fps": "",
      "seed": str(2**31)}, "seed",
     "Wan 2.7 text-to-video takes seeds 0–2147483647, got 2147483648"),
    # Wan 2.7 lists its own inputs (on the older models references are only warned).
    ({"model": "Wan-AI/wan2.7-t2v", "size": "", "resolution": "720P", "fps": "",
      "reference_urls": "https://img.example.com/cat.png"}, "reference_urls",
     "Wan 2.7 text-to-video does not accept reference images (accepts: audio)"),
    ({"model": "Wan-AI/wan2.7-t2v", "size": "", "resolution": "720P", "fps": "",
      "source_video_url": "https://v.example.com/in.mp4"}, "source_video_url",
     "does not accept a video to edit (accepts: audio)"),
    ({"audio_urls": "ftp://files.example.com/a.wav"}, "audio_urls",
     "Line 1 is not an http(s) URL"),
    ({"steps": "5"}, "steps", "greater than or equal to 10"),
    ({"model": ""}, "model", "This field is required"),
    ({"metadata": "[1, 2]"}, "metadata", "Give a JSON object"),
]


@pytest.mark.parametrize(("fields", "field", "message"), REFUSALS,
                         ids=[f"{r[1]}-{r[0].get('model', 'pixverse')}" for r in REFUSALS])
def test_refusals_name_the_field_and_what_is_allowed(superuser_client, fields, field, message):
    response = post(superuser_client, **fields)
    assert response.status_code == 200
    errors = errors_of(response)
    assert message in errors.get(field, ""), errors
    assert not VideoJob.objects.exists()


def test_last_keyframe_on_a_first_frame_only_model(superuser_client):
    response = superuser_client.post(ADD, {
        **form_data(model="minimax/hailuo-02", size="1366x768", seconds="10", fps="25"),
        "last_frame_file": image()})
    assert "supports keyframes at first only" in errors_of(response)["last_frame_file"]


def test_a_file_and_a_url_for_the_same_frame(superuser_client):
    response = superuser_client.post(ADD, {
        **form_data(first_frame_url="https://img.example.com/a.png"),
        "first_frame_file": image()})
    assert "Give a file or a URL, not both." in errors_of(response)["first_frame_url"]


def test_an_upload_that_is_not_an_image(superuser_client):
    response = superuser_client.post(ADD, {
        **form_data(), "first_frame_file": image("notes.png", b"hello, not a picture")})
    assert "notes.png is not a PNG, JPEG or WEBP image." in errors_of(response)[
        "first_frame_file"]


class HugeUpload(SimpleUploadedFile):
    """Claims 11 MB and fails if anyone reads it: the size must be checked first."""

    def __init__(self):
        super().__init__("huge.png", png_bytes(), content_type="image/png")
        self.size = 11 * 1024 * 1024

    def read(self, *args):
        raise AssertionError("read before the size check")


def test_an_upload_over_10_mb_is_refused_before_reading():
    form = JobForm(data=form_data(), files={"first_frame_file": HugeUpload()})
    assert not form.is_valid()
    assert "huge.png is 11.0\xa0MB; images up to 10.0\xa0MB are accepted." in form.errors[
        "first_frame_file"][0]


def test_warnings_save_and_say_so(superuser_client):
    response = superuser_client.post(ADD, form_data(guidance_scale="13"), follow=True)
    job = VideoJob.objects.get()
    assert job.guidance_scale == 13
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Guidance scale: values above 12 cause artifacts; 6–10 is recommended" in text


def test_reference_images_on_hailuo_save_with_a_warning(superuser_client):
    """As the docs' "Reference Images" example sends them; the table lists none."""
    response = superuser_client.post(ADD, form_data(
        model="minimax/hailuo-02", size="1366x768", seconds="10", fps="25",
        prompt="A cat dancing energetically", reference_urls="https://example.com/cat.jpg"),
        follow=True)
    job = VideoJob.objects.get()
    assert job.media == {"reference_images": ["https://example.com/cat.jpg"]}
    text = " ".join(str(m) for m in response.context["messages"])
    assert ("Reference images (URLs): MiniMax Hailuo 02's table lists no reference images"
            in text)
    assert "(saved anyway)" in text


# --- Saving --------------------------------------------------------------------------------------


def test_save_draft_with_a_first_frame_upload(superuser_client, queued):
    response = superuser_client.post(ADD, {**form_data(), "first_frame_file": image(),
                                           "_continue": "Save draft"})
    job = VideoJob.objects.get()
    assert response.status_code == 302
    assert job.status == Status.DRAFT and job.created_by == superuser_client.user
    assert (job.width, job.height, job.seconds, job.fps) == (360, 360, "5", 16)
    assert job.media == {"frame_images": [{"input_image": png_base64(), "frame": "first"}]}
    assert job.generate_audio is None and job.metadata == {}
    assert queued.calls == []
    page = superuser_client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    html = page.content.decode()
    assert f"data:image/png;base64,{png_base64()}" in html  # thumbnail
    assert "PNG image, 69" in html or "PNG image," in html


def test_save_and_submit_queues_the_submit(superuser_client, queued,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(ADD, {**form_data(), "_submit": "Save and submit"},
                                         follow=True)
    job = VideoJob.objects.get()
    assert queued.calls == [("submit_job", str(job.pk), superuser_client.user.pk)]
    assert response.redirect_chain[-1][0] == reverse("admin:videogen_videojob_change",
                                                     args=[job.pk])
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The draft was saved." in text and "queued for sending" in text


def test_save_and_submit_without_the_submit_permission(staff_client, queued,
                                                       django_capture_on_commit_callbacks):
    client = staff_client("view_videojob", "add_videojob", "change_videojob")
    assert b'name="_submit"' not in client.get(ADD).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, {**form_data(), "_submit": "1"}, follow=True)
    assert VideoJob.objects.get().status == Status.DRAFT
    assert queued.calls == []
    assert "Someone who may submit will send it" in " ".join(
        str(m) for m in response.context["messages"])


def test_editing_a_draft_keeps_then_removes_its_image(superuser_client):
    job = make_job(media={"frame_images": [{"input_image": png_base64(), "frame": "first"}]})
    url = reverse("admin:videogen_videojob_change", args=[job.pk])
    superuser_client.post(url, {**form_data(prompt="a changed prompt"), "_continue": "1"})
    job.refresh_from_db()
    assert job.prompt == "a changed prompt"
    assert job.media["frame_images"][0]["input_image"] == png_base64()
    superuser_client.post(url, {**form_data(), "first_frame_file-clear": "on"})
    job.refresh_from_db()
    assert job.media == {}


def test_a_url_keyframe_and_wan_media_urls(superuser_client):
    response = superuser_client.post(ADD, form_data(
        model="Wan-AI/wan2.7-i2v", size="", resolution="720P", ratio="9:16", fps="",
        first_frame_url="https://img.example.com/start.jpg",
        frame_video_urls="https://v.example.com/a.mp4\nhttps://v.example.com/b.mp4",
        audio_urls="https://a.example.com/tune.mp3"))
    assert response.status_code == 302, errors_of(response)
    job = VideoJob.objects.get()
    assert (job.resolution, job.ratio, job.width) == ("720P", "9:16", None)
    assert job.media == {
        "frame_images": [{"input_image": "https://img.example.com/start.jpg", "frame": "first"}],
        "frame_videos": [{"video": "https://v.example.com/a.mp4"},
                         {"video": "https://v.example.com/b.mp4"}],
        "audio_inputs": ["https://a.example.com/tune.mp3"]}


@pytest.mark.parametrize("site_url", ["https://www.example.com", None])
def test_uploaded_reference_images_become_absolute_urls(superuser_client, settings, site_url):
    webhooks = {k: v for k, v in settings.VIDEOGEN.get("WEBHOOKS", {}).items()
                if k != "SITE_URL"}
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **webhooks, **({"SITE_URL": site_url} if site_url else {})}}
    response = superuser_client.post(ADD, {**form_data(
        model="Wan-AI/wan2.7-r2v", size="", resolution="720P", ratio="1:1", fps=""),
        "reference_files": [image("a.png"), image("b.png", png_bytes(rgb=(1, 2, 3)))]})
    assert response.status_code == 302, errors_of(response)
    job = VideoJob.objects.get()
    refs = job.media["reference_images"]
    assert len(refs) == 2
    base = site_url or "http://testserver"
    assert all(url.startswith(f"{base}/media/videogen/") for url in refs), refs
    assert refs[0].endswith(f"{job.pk}-reference-1.png")
    assert job.video.storage.exists(refs[0].split("/media/", 1)[1])


def test_a_sent_job_is_read_only(superuser_client):
    job = make_job(Status.QUEUED, prompt="already sent")
    url = reverse("admin:videogen_videojob_change", args=[job.pk])
    page = superuser_client.get(url)
    assert b"View video job" in page.content and b'name="_submit"' not in page.content
    late = superuser_client.post(url, form_data(prompt="rewritten"))
    assert late.status_code == 200 and b"can no longer be edited" in late.content
    assert b"rewritten</textarea>" in late.content  # what was typed is shown back
    assert VideoJob.objects.get(pk=job.pk).prompt == "already sent"


def test_a_draft_sent_while_being_edited_keeps_its_status(superuser_client):
    job = make_job(prompt="before")
    url = reverse("admin:videogen_videojob_change", args=[job.pk])
    from videogen.admin import VideoJobAdmin

    real_get_object = VideoJobAdmin.get_object

    def get_then_submit(self, request, object_id, from_field=None):
        obj = real_get_object(self, request, object_id, from_field)
        VideoJob.objects.filter(pk=job.pk).update(status=Status.QUEUED)  # the worker won
        return obj

    VideoJobAdmin.get_object = get_then_submit
    try:
        response = superuser_client.post(url, {**form_data(prompt="after"), "_continue": "1"},
                                         follow=True)
    finally:
        VideoJobAdmin.get_object = real_get_object
    job.refresh_from_db()
    assert (job.status, job.prompt) == (Status.QUEUED, "before")
    assert "your changes were not saved" in " ".join(str(m) for m in response.context["messages"])


def test_model_choices_are_grouped_with_a_capability_line(superuser_client):
    html = superuser_client.get(ADD).content.decode()
    # The providers' names, not the slugs of the model ids (kwaivgI, Wan-AI).
    assert '<optgroup label="Google">' in html and '<optgroup label="Wan (Alibaba)">' in html
    assert '<optgroup label="Kling (Kuaishou)">' in html and "kwaivgI</" not in html
    assert ("5 s · 640×360, 480×360, 360×360, 270×360 +16 · 24/16 fps · first and last frame"
            " · reference images: sent with a warning (in the provider&#x27;s docs, not its table)"
            " · prompt 2–2048 characters") in html
    assert 'id="videogen-catalog"' in html
    draft = make_job()
    page = superuser_client.get(reverse("admin:videogen_videojob_change", args=[draft.pk]))
    assert b'data-vg-model-summary aria-live="polite">5 s' in page.content


def test_base64_is_never_echoed_in_the_request_json(superuser_client):
    big = base64.b64encode(png_bytes(width=64, height=64)).decode()
    job = make_job(Status.QUEUED, media={"frame_images": [{"input_image": big, "frame": "first"}]})
    html = superuser_client.get(reverse("admin:videogen_videojob_change",
                                        args=[job.pk])).content.decode()
    assert "base64 not shown" in html
    assert html.count(big) == 1  # the thumbnail only


def test_editing_a_loose_models_draft_keeps_its_unpositioned_frames(superuser_client):
    """A Wan 2.2 draft made from code with three frames and no positions: the form shows the
    first as the first keyframe, and saving it dropped the other two (each was taken for a
    "first" frame the form had replaced)."""
    frames = [{"input_image": f"https://img.example.com/{n}.png"} for n in range(3)]
    job = make_job(model="Wan-AI/Wan2.2-I2V-A14B", width=None, height=None, fps=None,
                   media={"frame_images": frames})
    url = reverse("admin:videogen_videojob_change", args=[job.pk])
    response = superuser_client.post(url, {**form_data(model="Wan-AI/Wan2.2-I2V-A14B",
                                                       size="", fps="", prompt="a change",
                                                       first_frame_url=frames[0]["input_image"]),
                                           "_continue": "1"})
    assert response.status_code == 302, errors_of(response)
    job.refresh_from_db()
    assert job.prompt == "a change"
    assert [f["input_image"] for f in job.media["frame_images"]] == \
        [f["input_image"] for f in frames]


def kept_token(response, name="first_frame_file"):
    match = re.search(rf'name="{name}-kept" value="([0-9a-f]+)"', response.content.decode())
    return match and match.group(1)


def test_an_upload_is_kept_when_the_form_comes_back_with_errors(superuser_client, tmp_path):
    """A browser cannot refill a file input: after a mistake elsewhere in the form, staff had
    to choose the image again. The page now keeps it and says so."""
    response = superuser_client.post(ADD, {**form_data(size="123x456"),
                                           "first_frame_file": image()})
    assert response.status_code == 200 and "size" in errors_of(response)
    token = kept_token(response)
    assert token and "Keep this image from your last try:" in response.content.decode()
    assert (tmp_path / "media" / upload_stash.FOLDER / token).exists()
    # Another mistake: the same image is still kept, under the same token.
    response = superuser_client.post(ADD, {**form_data(size="123x456"),
                                           "first_frame_file-kept": token})
    assert kept_token(response) == token
    response = superuser_client.post(ADD, {**form_data(), "first_frame_file-kept": token})
    assert response.status_code == 302
    job = VideoJob.objects.get()
    assert job.media == {"frame_images": [{"input_image": png_base64(), "frame": "first"}]}
    assert not (tmp_path / "media" / upload_stash.FOLDER / token).exists()


@pytest.mark.parametrize("token", ["0" * 32, "../../settings", "a" * 31, "x" * 5000])
def test_a_kept_image_that_is_gone_or_not_a_token_is_a_field_error(superuser_client, token):
    response = superuser_client.post(ADD, {**form_data(), "first_frame_file-kept": token})
    assert response.status_code == 200
    assert "choose the file again" in errors_of(response)["first_frame_file"]
    assert not VideoJob.objects.exists()


def test_unticking_a_kept_image_drops_it(superuser_client):
    response = superuser_client.post(ADD, {**form_data(size="123x456"),
                                           "first_frame_file": image()})
    assert kept_token(response)
    response = superuser_client.post(ADD, form_data())  # the "keep" box unticked
    assert response.status_code == 302
    assert VideoJob.objects.get().media == {}


def test_reference_uploads_are_kept_too(superuser_client, tmp_path):
    """Wan 2.7 reference images: each kept with its own "keep" box; an unticked one goes."""
    wan = {"model": "Wan-AI/wan2.7-r2v", "size": "", "fps": "", "resolution": "720P",
           "ratio": "1:1"}
    response = superuser_client.post(ADD, {**form_data(**{**wan, "prompt": ""}),
                                           "reference_files": [image("a.png"), image(
                                               "b.png", png_bytes(rgb=(0, 0, 255)))]})
    assert response.status_code == 200 and "prompt" in errors_of(response)
    tokens = re.findall(r'name="reference_files-kept" value="([0-9a-f]+)"',
                        response.content.decode())
    assert len(tokens) == 2
    response = superuser_client.post(ADD, {**form_data(**wan),
                                           "reference_files-kept": tokens[:1]})
    assert response.status_code == 302, errors_of(response)
    job = VideoJob.objects.get()
    [url] = job.media["reference_images"]
    stored = tmp_path / "media" / url.split("/media/", 1)[1]
    assert stored.read_bytes() == png_bytes()
    assert not any((tmp_path / "media" / upload_stash.FOLDER / t).exists() for t in tokens[:1])


def test_the_sweeper_deletes_kept_images_after_a_day(superuser_client, tmp_path):
    import os
    import time

    from videogen import sweeper

    response = superuser_client.post(ADD, {**form_data(size="123x456"),
                                           "first_frame_file": image()})
    path = tmp_path / "media" / upload_stash.FOLDER / kept_token(response)
    assert sweeper.sweep().kept_uploads_removed == 0 and path.exists()
    old = time.time() - upload_stash.MAX_AGE.total_seconds() - 60
    os.utime(path, (old, old))
    assert sweeper.sweep().kept_uploads_removed == 1 and not path.exists()


@pytest.mark.parametrize("name", ["first_frame_file", "last_frame_file", "reference_files"])
def test_image_inputs_tell_the_browser_what_they_take(name):
    """The page's script previews and checks picked files by these attributes (a refactor
    once left the keyframe inputs without them, and no thumbnail appeared)."""
    html = str(JobForm()[name])
    assert 'accept="image/png,image/jpeg,image/webp"' in html and 'data-vg-image="1"' in html
    assert f'data-vg-max-bytes="{10 * 1024 * 1024}"' in html


# --- In the words of the page: labels, not ids and keys (issue #19, 10-14) -----------------------

WAN27 = {"size": "", "fps": "", "resolution": "720P", "ratio": "16:9", "seconds": ""}


def test_warnings_name_the_field_by_its_label(superuser_client):
    response = superuser_client.post(ADD, form_data(generate_audio="true", guidance_scale="14"),
                                     follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Generate audio: PixVerse v5 is not documented to generate audio (saved anyway)" in text
    assert "Guidance scale: values above 12" in text
    assert "generate_audio" not in text.lower().replace("generate audio", "")


@pytest.mark.parametrize("length", [3001, 200_000])
def test_a_long_prompt_is_refused_in_the_models_words(superuser_client, length):
    """Over the API's 32,000 characters it was pydantic's "String should have at most 32000
    characters"; over the model's 3,000 the model's id. Both now say the same, with the
    model's label."""
    response = post(superuser_client, model="minimax/hailuo-02", size="1366x768", seconds="10",
                    fps="25", prompt="x" * length)
    assert errors_of(response) == {
        "prompt": f"MiniMax Hailuo 02 takes 2–3000 characters, got {length}"}


@pytest.mark.parametrize(("model", "field", "message"), [
    ("Wan-AI/wan2.7-r2v", "reference_urls",
     "Wan 2.7 reference-to-video needs reference images or reference videos"),
    ("Wan-AI/wan2.7-videoedit", "source_video_url", "Wan 2.7 video edit needs a video to edit"),
])
def test_a_model_that_needs_an_input_refuses_without_it(superuser_client, model, field, message):
    response = post(superuser_client, model=model, **WAN27)
    assert errors_of(response) == {field: message}
    assert not VideoJob.objects.exists()


def test_an_input_the_model_does_not_take_is_refused_not_saved(superuser_client):
    """Wan 2.2 T2V (undocumented, text-to-video) saved a reference URL without a word."""
    response = post(superuser_client, model="Wan-AI/Wan2.2-T2V-A14B", size="", seconds="",
                    fps="", first_frame_url="https://img.example.com/cat.png",
                    source_video_url="https://v.example.com/in.mp4")
    assert errors_of(response) == {
        "first_frame_url": "Wan 2.2 T2V A14B (text-to-video) does not take keyframes.",
        "source_video_url": "Wan 2.2 T2V A14B (text-to-video) does not take a video to edit."}
    assert not VideoJob.objects.exists()
    # Reference images: the provider's docs list them for every model, so they are sent
    # with a warning, as on the documented models.
    response = superuser_client.post(ADD, form_data(
        model="Wan-AI/Wan2.2-T2V-A14B", size="", seconds="", fps="",
        reference_urls="https://img.example.com/cat.png"), follow=True)
    assert VideoJob.objects.get().media == {"reference_images": ["https://img.example.com/cat.png"]}
    assert "Reference images (URLs): Wan 2.2 T2V A14B (text-to-video) is not documented" in \
        " ".join(str(m) for m in response.context["messages"])


def test_the_catalog_tells_the_script_what_each_model_takes(superuser_client):
    html = superuser_client.get(ADD).content.decode()
    data = json.loads(re.search(r'id="videogen-catalog"[^>]*>(.*?)</script>', html, re.S)[1])
    assert data["Wan-AI/Wan2.2-T2V-A14B"]["media"] == []
    assert data["Wan-AI/Wan2.2-T2V-A14B"]["warned"] == ["reference_images"]
    assert data["minimax/hailuo-02"]["warned"] == ["reference_images"]
    assert data["Wan-AI/Wan2.2-I2V-A14B"]["media"] == ["frame_images"]
    assert data["Wan-AI/wan2.7-r2v"]["required"] == [["reference_images", "reference_videos"]]
    # The hint line is complete: the duration range the Duration select offers, what it needs.
    assert data["Wan-AI/wan2.7-r2v"]["summary"] == (
        "2–10 s · 720P, 1080P × 16:9, 9:16, 1:1, 4:3, 3:4 · 30 fps · needs reference images "
        "or reference videos · prompt 2–5000 characters")
    assert data["Wan-AI/wan2.7-i2v"]["summary"].startswith("2–15 s · ")
    assert "takes clips to continue, audio" in data["Wan-AI/wan2.7-i2v"]["summary"]
