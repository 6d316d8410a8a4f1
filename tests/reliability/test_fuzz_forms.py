"""Fuzzing the staff forms and the settings: the job add form and the webhook endpoint form
posted through the real admin with random values, files that are not images, huge strings,
unicode and NULs; and random ``VIDEOGEN`` dicts. Every answer is a page with errors keyed by
field (or a saved object that is valid), never a 500; settings errors name the key and never
echo the value."""

import json

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.admin.conftest import png_bytes
from tests.enqueued import record_tasks
from videogen import catalog, conf, submission
from videogen.models import VideoJob
from videogen.webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
JOB_ADD = reverse("admin:videogen_videojob_add")
ENDPOINT_ADD = reverse("admin:videogen_webhookendpoint_add")
PNG = png_bytes()

text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202e", "٥", "²", "-1", "1e309", "NaN",
                     "null", "[]", "{}", '{"a": "\\u0000"}', '{"a": NaN}', '{"a": 1e999}',
                     "[" * 2000, "[" * 3000 + "]" * 3000, "1366x768",
                     "0x0", "99999x99999", "x", "https://",
                     "https://exa mple.com", "https://[::1]/", "javascript:alert(1)",
                     "data:image/png;base64,AAAA", "iVBORw0KGgo=", "!!!", "first", "unknown",
                     "true", "720P", "16:9"]),
    st.text(min_size=3000, max_size=60000).map(lambda t: t or "x" * 60000),
)
model = st.one_of(st.sampled_from(list(catalog.BUILTIN)), text)
upload = st.one_of(
    st.binary(max_size=200).map(lambda b: ("x.png", b, "image/png")),
    st.just(("frame.png", PNG, "image/png")),
    st.just(("frame.gif", b"GIF89a" + b"\0" * 20, "image/gif")),
    st.just(("evil.png", b"<svg onload=alert(1)>", "image/png")),
    st.just(("trunc.png", PNG[:12], "image/png")),
    st.just(("ünï\u202ecode.png", PNG, "image/png")),
    st.just((".png", PNG, "image/png")),
    st.just(("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (catalog.MAX_IMAGE_BYTES + 1),
             "image/png")),
)
JOB_FIELDS = ["prompt", "size", "resolution", "ratio", "seconds", "fps", "first_frame_url",
              "last_frame_url", "reference_urls", "steps", "guidance_scale", "seed",
              "negative_prompt", "output_format", "output_quality", "generate_audio",
              "frame_video_urls", "reference_video_urls", "source_video_url", "audio_urls",
              "metadata"]
job_data = st.fixed_dictionaries({"model": model}, optional={
    **{name: text for name in JOB_FIELDS},
    "first_frame_file": upload, "last_frame_file": upload,
    "reference_files": st.lists(upload, max_size=2),
    "_submit": st.just("1"),
})


def as_post(data: dict) -> dict:
    post = {}
    for name, value in data.items():
        if isinstance(value, tuple):
            post[name] = SimpleUploadedFile(*value[:2], content_type=value[2])
        elif isinstance(value, list):
            post[name] = [SimpleUploadedFile(*v[:2], content_type=v[2]) for v in value]
        else:
            post[name] = value
    return post


def form_errors(response) -> dict:
    return dict(response.context["adminform"].form.errors)


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@FUZZ
@given(data=job_data)
def test_job_add_form_with_anything(admin_client, queued_tasks, data):
    before = VideoJob.objects.count()
    response = admin_client.post(JOB_ADD, as_post(data))
    assert response.status_code in (200, 302), response.status_code
    event(f"HTTP {response.status_code}")
    if response.status_code == 200:
        errors = form_errors(response)
        assert errors, "a 200 without errors would be a silent refusal"
        fields = set(response.context["adminform"].form.fields) | {"__all__"}
        assert set(errors) <= fields, errors
        assert VideoJob.objects.count() == before
        return
    assert VideoJob.objects.count() == before + 1
    job = VideoJob.objects.order_by("-created_at").first()
    assert [p for p in submission.check_request(job) if p.is_error] == []
    job.delete()


@pytest.fixture
def queued_tasks(monkeypatch):
    """Submitting from the form enqueues a task: record it instead of sending it anywhere."""
    return record_tasks(monkeypatch).calls


def test_an_oversized_upload_is_refused_by_its_size_without_being_read(admin_client,
                                                                       monkeypatch):
    """Django spools the upload to a temporary file; the form refuses it from ``.size``
    without reading a byte of it."""
    from django.core.files import uploadedfile

    # The test client reads its own file to encode the request; the server side's file is the
    # TemporaryUploadedFile Django spooled to disk, and that is the one watched.
    made, reads = [], []
    init = uploadedfile.TemporaryUploadedFile.__init__

    def spooled(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    def reading(self):
        reads.append(self.name)
        return self.file.read

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", spooled)
    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "read", property(reading))
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * catalog.MAX_IMAGE_BYTES
    response = admin_client.post(JOB_ADD, {
        "model": "google/veo-2.0", "prompt": "a kettle", "size": "1280x720",
        "first_frame_file": SimpleUploadedFile("big.png", big, content_type="image/png")})
    assert response.status_code == 200
    assert "are accepted" in " ".join(form_errors(response)["first_frame_file"])
    assert len(made) == 1 and reads == []
    assert not VideoJob.objects.exists()


def test_a_huge_post_body_is_a_400_not_a_500(admin_client):
    response = admin_client.post(JOB_ADD, {"model": "google/veo-2.0", "prompt": "x" * 3_000_000})
    assert response.status_code == 400
    assert not VideoJob.objects.exists()


FORM_REGRESSIONS = [
    ({"metadata": '{"a": "\\u0000"}'}, "metadata"),
    ({"metadata": '{"a": NaN}'}, "metadata"),
]


@pytest.mark.parametrize(("fields", "field"), FORM_REGRESSIONS)
def test_form_regressions_name_the_field(admin_client, fields, field):
    """Saved on SQLite, a 500 on PostgreSQL (jsonb refuses \\u0000 and NaN)."""
    response = admin_client.post(JOB_ADD, {"model": "google/veo-2.0", "prompt": "a kettle",
                                           "size": "1280x720", **fields})
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not VideoJob.objects.exists()


# --- The webhook endpoint form ----------------------------------------------------------------

INLINE = {"secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}  # the secrets inline

endpoint_data = st.fixed_dictionaries({"url": st.one_of(text, st.sampled_from([
    "https://hooks.example.com/x", "http://10.0.0.1/", "http://169.254.169.254/latest",
    "http://[::1]:80/", "http://0x7f.1/", "http://2130706433/", "http://017700000001/",
    "http://[::ffff:127.0.0.1]/", "http://localhost./", "gopher://x/", "https://x:99999/"]))},
    optional={"description": text, "enabled": st.sampled_from(["on", "", "x"]),
              "event_types": st.lists(st.one_of(text, st.just("video.completed")), max_size=3),
              "headers": st.one_of(text, st.dictionaries(text, text, max_size=3).map(
                  json.dumps), st.just('{"Webhook-Id": "x"}'), st.just('{"a": 1}'))})


@FUZZ
@given(data=endpoint_data)
def test_endpoint_form_with_anything(admin_client, monkeypatch, data):
    # Hostnames never go to real DNS: every name "resolves" to a public documentation address.
    monkeypatch.setattr("socket.getaddrinfo", lambda host, *a, **k: [
        (2, 1, 6, "", ("93.184.216.34", 443))])
    before = WebhookEndpoint.objects.count()
    response = admin_client.post(ENDPOINT_ADD, {**data, **INLINE})
    assert response.status_code in (200, 302), response.status_code
    saved = WebhookEndpoint.objects.count() > before
    event(f"HTTP {response.status_code}, {'saved' if saved else 'refused'}")
    if not saved:  # the form again, each error on its field
        errors = form_errors(response)
        assert errors and set(errors) <= {"url", "description", "enabled", "event_types",
                                          "headers", "__all__"}, errors
        return
    # Saved: the new signing secret is shown once, in this answer (never in a cookie).
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    endpoint = WebhookEndpoint.objects.order_by("-pk").first()
    assert endpoint.secrets.count() == 1
    httpx.Request("POST", endpoint.url, headers=endpoint.headers)  # sendable as saved
    endpoint.delete()


def test_endpoint_headers_with_a_nul_name_the_field(admin_client):
    response = admin_client.post(ENDPOINT_ADD, {**INLINE, "url": "https://93.184.216.34/hooks",
                                                "headers": '{"X-Team": "a\\u0000b"}'})
    assert response.status_code == 200
    assert "headers" in form_errors(response)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("headers", [{"X-Team": "équipe"}, {"X-Team": "a\r\nX-Evil: 1"},
                                     {"X Team": "a"}, {"": "a"}, {"X-Team": 5}])
def test_endpoint_headers_that_cannot_be_sent_are_refused(admin_client, headers):
    """Each of these failed every delivery to the endpoint (é: UnicodeEncodeError in httpx,
    uncaught by the delivery task) or was refused by h11 at send time."""
    response = admin_client.post(ENDPOINT_ADD, {**INLINE, "url": "https://93.184.216.34/hooks",
                                                "headers": json.dumps(headers)})
    assert response.status_code == 200
    assert "headers" in form_errors(response)
    assert not WebhookEndpoint.objects.exists()


def test_settings_headers_that_cannot_be_sent_stop_start_up_naming_the_key():
    raw = {"WEBHOOKS": {"ENDPOINTS": [{"KEY": "crm", "URL": "https://crm.example.com/h",
                                       "HEADERS": {"Authorization": f"Bearer {SECRET}\n"}}]}}
    with override_settings(VIDEOGEN=raw), pytest.raises(ImproperlyConfigured) as error:
        conf.get_settings()
    assert "VIDEOGEN['WEBHOOKS']['ENDPOINTS'][0]['HEADERS']" in str(error.value)
    assert SECRET not in str(error.value)


SECRET_URL = "crm.example.com/hooks?token=sk-FUZZ-SECRET-VALUE"


@pytest.mark.parametrize(("raw", "key"), [
    ({"ENDPOINTS": [{"KEY": "crm", "URL": SECRET_URL}]}, "['ENDPOINTS'][0]['URL']"),
    ({"ENDPOINTS": [{"KEY": "crm", "URL": "https://"}]}, "['ENDPOINTS'][0]['URL']"),
    ({"SITE_URL": "videos.example.com"}, "['SITE_URL']")])
def test_settings_urls_must_be_http_with_a_host(raw, key):
    """Were accepted, then failed every delivery (or made payload links relative)."""
    with override_settings(VIDEOGEN={"WEBHOOKS": raw}), \
            pytest.raises(ImproperlyConfigured) as error:
        conf.get_settings()
    assert f"VIDEOGEN['WEBHOOKS']{key}: Value error, must start with http" in str(error.value)
    assert SECRET_URL not in str(error.value)


# --- Settings -----------------------------------------------------------------------------------

SECRET = "sk-FUZZ-SECRET-VALUE-0123456789"
setting_value = st.one_of(st.just(SECRET), st.integers(), st.floats(), st.booleans(),
                          st.none(), st.lists(st.just(SECRET), max_size=2),
                          st.dictionaries(st.sampled_from(["URL", "KEY", "SECRET", "x"]),
                                          st.just(SECRET), max_size=3))
# Keys are named in errors (that is how a typo is found); values never are.
KEYS = ["API_KEY", "BASE_URL", "TIMEOUT", "CONNECT_TIMEOUT", "MAX_RETRIES", "STORAGE",
        "UPLOAD_TO", "MODELS", "POLL", "ARCHIVE", "WEBHOOKS", "BUDGET", "NOT_A_KEY"]
SECTION_KEYS = {"POLL": ["CONCURRENCY", "LOOP_SECONDS", "MAX_AGE"],
                "ARCHIVE": ["MAX_BYTES", "CHUNK_SIZE"],
                "WEBHOOKS": ["ENDPOINTS", "ALLOWED_HOSTS", "TIMEOUT", "SITE_URL"],
                "BUDGET": ["DAILY", "MONTHLY"], "MODELS": ["x/y"]}
section = st.sampled_from(sorted(SECTION_KEYS)).flatmap(lambda name: st.tuples(
    st.just(name), st.dictionaries(st.sampled_from(SECTION_KEYS[name]), setting_value,
                                   max_size=3)))
videogen_setting = st.one_of(
    setting_value,
    st.dictionaries(st.sampled_from(KEYS), setting_value, max_size=4),
    st.lists(section, max_size=3).map(dict),
    st.just({"WEBHOOKS": {"ENDPOINTS": [{"KEY": "k", "URL": SECRET, "SECRET": 5}]}}),
)


@FUZZ
@given(raw=videogen_setting)
def test_settings_errors_name_the_key_and_never_echo_the_value(raw):
    try:
        with override_settings(VIDEOGEN=raw):
            loaded = conf.get_settings()
            catalog.site_catalog()
    except ImproperlyConfigured as error:
        message = str(error)
        assert SECRET not in message, message
        assert "VIDEOGEN" in message
        return
    assert SECRET not in repr(loaded) and SECRET not in str(loaded)


# --- Query strings of the admin pages -------------------------------------------------------------

CHANGELISTS = [reverse(f"admin:videogen_{name}_changelist") for name in (
    "videojob", "jobevent", "webhookendpoint", "webhookdelivery", "webhookevent")]
query_value = st.one_of(text, st.sampled_from(["\x00", "%00", "1\x00", "-1", "99999999999999999999",
                                               "2026-13-45", "me", "none", "__", "id"]))
query = st.dictionaries(st.sampled_from(
    ["q", "o", "p", "status", "model", "owner", "archive_status", "created_at__gte",
     "created_at__lt", "created_at__year", "created_at__month", "created_at__day", "kind",
     "new_status", "enabled", "endpoint__id__exact", "event__type", "type", "e", "_to_field",
     "id", "all"]), query_value, max_size=4)


@FUZZ
@given(url=st.sampled_from([*CHANGELISTS, reverse("admin:videogen_videojob_progress"),
                            reverse("admin:videogen_videojob_dashboard")]), params=query)
def test_admin_pages_with_any_query_string(admin_client, url, params):
    """Search terms, filters, ordering and pages from the address bar: a page, a redirect to
    the "?e=1" error page or a 400 — never a 500 (PostgreSQL refuses NUL in a query)."""
    response = admin_client.get(url, params)
    assert response.status_code in (200, 302, 400), (params, response.status_code)
    event(f"HTTP {response.status_code}")


@FUZZ
@given(data=job_data, clear=st.sets(st.sampled_from(["first_frame_file-clear",
                                                     "last_frame_file-clear"])))
def test_draft_change_form_with_anything(admin_client, queued_tasks, data, clear):
    """A draft that already has keyframes (stored base64 and a URL) and Wan media, edited
    with anything: errors on fields, or a saved draft that is still a valid request."""
    import base64

    job = VideoJob.objects.create(
        model="google/veo-2.0", prompt="a kettle", width=1280, height=720, media={
            "frame_images": [{"input_image": base64.b64encode(PNG).decode(), "frame": "first"},
                             {"input_image": "https://img.example.com/last.png",
                              "frame": "last"}]})
    before = VideoJob.objects.filter(pk=job.pk).values().get()
    url = reverse("admin:videogen_videojob_change", args=[job.pk])
    response = admin_client.post(url, {**as_post(data), **{name: "on" for name in clear}})
    assert response.status_code in (200, 302), response.status_code
    event(f"HTTP {response.status_code}")
    if response.status_code == 200:
        assert form_errors(response)
        assert VideoJob.objects.filter(pk=job.pk).values().get() == before
    else:
        job.refresh_from_db()
        assert [p for p in submission.check_request(job) if p.is_error] == []
    job.delete()


def test_an_api_key_with_a_trailing_newline_is_trimmed_and_a_broken_one_refused():
    """A key from a file ends with "\\n" (it made every provider call fail); a key with a
    space or a non-ASCII character is refused at start-up without being echoed (it made the
    client raise later, with the key among the traceback's variables)."""
    with override_settings(VIDEOGEN={"API_KEY": SECRET + "\n"}):
        assert conf.get_settings().api_key_value() == SECRET
    for broken in (SECRET + " x", SECRET + "é", "\x00" + SECRET):
        with override_settings(VIDEOGEN={"API_KEY": broken}), \
                pytest.raises(ImproperlyConfigured) as error:
            conf.get_settings()
        assert "VIDEOGEN['API_KEY']" in str(error.value) and SECRET not in str(error.value)


DEEP = "[" * 5000 + "]" * 5000


def test_json_nested_too_deeply_is_a_field_error_not_a_500(admin_client):
    """json.loads raises RecursionError (not JSONDecodeError) past ~1000 levels; Django's JSON
    form field caught only the latter, so both JSON fields answered 500."""
    response = admin_client.post(JOB_ADD, {"model": "google/veo-2.0", "prompt": "a kettle",
                                           "size": "1280x720", "metadata": DEEP})
    assert response.status_code == 200 and "metadata" in form_errors(response)
    response = admin_client.post(ENDPOINT_ADD, {**INLINE, "url": "https://93.184.216.34/x",
                                                "headers": DEEP})
    assert response.status_code == 200 and "headers" in form_errors(response)
    assert not VideoJob.objects.exists() and not WebhookEndpoint.objects.exists()


HUGE_INT = "1" * 5000  # past int()'s 4300-digit limit: a ValueError, not a parse error


def test_json_with_an_integer_too_long_to_read_is_a_field_error_not_a_500(admin_client):
    """json.loads raises a plain ValueError for an integer of more than 4300 digits, which
    Django's JSON form field does not catch: both JSON fields answered 500."""
    response = admin_client.post(JOB_ADD, {"model": "google/veo-2.0", "prompt": "a kettle",
                                           "size": "1280x720",
                                           "metadata": f'{{"n": {HUGE_INT}}}'})
    assert response.status_code == 200 and "metadata" in form_errors(response)
    response = admin_client.post(ENDPOINT_ADD, {**INLINE, "url": "https://93.184.216.34/x",
                                                "headers": f'{{"X-N": {HUGE_INT}}}'})
    assert response.status_code == 200 and "headers" in form_errors(response)
    assert not VideoJob.objects.exists() and not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("owner", ["²", "٥", "99999999999999999999", HUGE_INT])
def test_an_owner_that_is_not_a_user_id_lists_no_jobs_instead_of_a_500(admin_client, owner):
    """"²" and "٥" pass str.isdigit() but not int(); a 5000-digit id fails int() too."""
    lifecycle_job = VideoJob.objects.create(model="google/veo-2.0", prompt="a kettle")
    response = admin_client.get(CHANGELISTS[0], {"owner": owner})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert lifecycle_job not in response.context["cl"].result_list
