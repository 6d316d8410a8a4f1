"""Fuzzing the Python API's ``create`` and the request schema with hypothesis: whatever a host
site passes, the answer is a saved, valid draft or an ``InvalidRequest`` whose problems name the
fields given — never another exception, never a half-saved job."""

import io
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from videogen import api, catalog, submission
from videogen.client.schemas import CreateVideoRequest
from videogen.models import REQUEST_FIELDS, VideoJob

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
MODELS = [*list(catalog.BUILTIN)[:6], "Wan-AI/wan2.7-t2v", "Wan-AI/wan2.7-i2v",
          "Wan-AI/Wan2.2-I2V-A14B", "kwaivgI/kling-2.1-pro", "unknown/model"]

# Text that breaks things: NUL, lone surrogates, right-to-left marks, non-ASCII digits, huge.
nasty_text = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "\u202e", "٥", "²", "5.5", "-1",
                     "1e3", "NaN", "inf", "0x10", "MP4", "mp4", "720P", "16:9", "first"]),
    st.text(min_size=3000, max_size=40000).map(lambda t: t or "x" * 40000),
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                   st.floats(allow_nan=True, allow_infinity=True), nasty_text,
                   st.binary(max_size=40))
anything = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
url = st.one_of(st.just("https://img.example.com/a.png"), st.just("ftp://x/y"),
                st.sampled_from(["https://[::1", "http://[x]/", "https://h:99999/a.wav"]),
                st.just("https://" + "a" * 3000), st.just("data:image/png;base64,AAAA"),
                st.text(max_size=30))
frame = st.fixed_dictionaries({"input_image": st.one_of(url, st.just("iVBORw0KGgo="),
                                                        st.just("!!notbase64!!"))},
                              optional={"frame": st.one_of(anything, st.sampled_from(
                                  ["first", "last", 0, 48, float("inf"), -1]))})
media = st.one_of(anything, st.fixed_dictionaries({}, optional={
    "frame_images": st.one_of(anything, st.lists(frame, max_size=3)),
    "reference_images": st.one_of(anything, st.lists(url, max_size=3)),
    "frame_videos": st.lists(st.one_of(anything, st.fixed_dictionaries({"video": url}))),
    "source_video": st.one_of(url, st.fixed_dictionaries({"video": url}), anything),
    "audio_inputs": st.lists(st.one_of(url, st.fixed_dictionaries({"audio": url}))),
    "unknown_key": anything,
}))
image = st.one_of(st.just(PNG), st.binary(max_size=64), url, st.just(b""),
                  st.builds(io.BytesIO, st.binary(max_size=64)), st.just(io.StringIO("text")),
                  st.just("/"), st.just("no/such/file.png"), st.just("a\x00b"),
                  st.just("x" * 5000), st.integers(), st.none(), st.just(object()))
request_fields = st.fixed_dictionaries({}, optional={
    "prompt": st.one_of(nasty_text, anything), "negative_prompt": st.one_of(nasty_text, anything),
    "width": anything, "height": anything, "seconds": st.one_of(nasty_text, anything),
    "fps": anything, "steps": anything, "guidance_scale": anything, "seed": anything,
    "output_format": st.one_of(nasty_text, anything), "output_quality": anything,
    "generate_audio": anything, "resolution": st.one_of(nasty_text, anything),
    "ratio": st.one_of(nasty_text, anything), "media": media,
    "colour": anything,  # not a request field
})
others = st.fixed_dictionaries({}, optional={
    "images": st.one_of(st.dictionaries(st.sampled_from(["first", "last", "middle", ""]),
                                        image, max_size=3), anything),
    "metadata": anything,
    "created_by": st.sampled_from([None, "bob", 7]),
    "for_object": st.sampled_from([None, "article-1", 42]),
})


def head(field: str) -> str:
    return field.replace("[", ".").split(".")[0]


def check_answer(kwargs: dict) -> str:
    """Call create; every outcome must be one of the two promised ones."""
    before = VideoJob.objects.count()
    try:
        job = api.create(**kwargs)
    except api.InvalidRequest as error:
        assert error.problems, kwargs
        # A missing prompt or the other half of a size is named although not given; keyframes
        # from ``images`` become ``media.frame_images``.
        given_names = set(kwargs) | {"model", "prompt", "width", "height"} | (
            {"media"} if "images" in kwargs else set())
        for problem in error.problems:
            assert head(problem.field) in given_names, (problem, kwargs)
        assert VideoJob.objects.count() == before
        return "refused"
    # Accepted: stored as validated values that still make a valid request.
    job.refresh_from_db()
    assert [p for p in submission.check_request(job) if p.is_error] == []
    submission.build_request(job).to_wire()
    assert set(job.request_fields()) <= set(REQUEST_FIELDS)
    return "saved"


@FUZZ
@given(model=st.one_of(st.sampled_from(MODELS), anything), fields=request_fields,
       extra=others)
def test_create_with_anything(model, fields, extra):
    event(check_answer({"model": model, **fields, **extra}))


@FUZZ
@given(model=st.sampled_from(MODELS), prompt=st.sampled_from(["a paper boat", "x" * 2]),
       size=st.sampled_from([(1280, 720), (360, 360), (1366, 768), (None, None)]),
       seconds=st.sampled_from([None, 5, "5", "8", 10]), images=others)
def test_create_with_plausible_requests(model, prompt, size, seconds, images):
    """Mostly valid requests, so the saved branch is exercised too."""
    kwargs = {"model": model, "prompt": prompt, "width": size[0], "height": size[1],
              "seconds": seconds, **images}
    event(check_answer({k: v for k, v in kwargs.items() if v is not None}))


@FUZZ
@given(data=st.one_of(anything, st.fixed_dictionaries(
    {"model": st.one_of(st.sampled_from(MODELS), anything)}, optional={
        "prompt": nasty_text, "width": anything, "height": anything, "seconds": anything,
        "media": media, "frame_images": st.lists(frame, max_size=2),
        "reference_images": st.lists(url, max_size=2), "guidance_scale": anything})))
def test_catalog_parse_never_raises(data):
    request, problems = catalog.parse(data)
    if request is None:
        assert problems and all(p.is_error for p in problems[:1])
        return
    request.to_wire()  # what would be sent serializes
    for problem in problems:
        assert problem.field and problem.message


@FUZZ
@given(data=anything)
def test_schema_errors_never_echo_the_input(data):
    marker = "SECRET-MARKER-1234"
    payload = {"model": "m", "prompt": data, "negative_prompt": marker, "seed": marker}
    try:
        CreateVideoRequest.model_validate(payload)
    except ValidationError as error:
        assert marker not in str(error)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    """A path or a file object above the limit: stat()/``.size`` decide; nothing is read."""
    big = tmp_path / "big.png"
    with big.open("wb") as file:
        file.truncate(catalog.MAX_IMAGE_BYTES + 1)  # sparse: no disk used

    class Unreadable(io.BytesIO):
        size = catalog.MAX_IMAGE_BYTES + 1

        def read(self, *args):
            raise AssertionError("read before the size check")

    for source in (big, str(big), Unreadable()):
        with pytest.raises(api.InvalidRequest, match="images.first: the image is larger"):
            api.create(model="google/veo-2.0", prompt="a kettle", images={"first": source})
    assert not VideoJob.objects.exists()


def test_an_endless_file_is_read_only_to_the_limit():
    """/dev/zero reports size 0 and never ends: reading stops one byte past the limit."""
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(api.InvalidRequest, match="images.first: no such file"):
        api.create(model="google/veo-2.0", prompt="a kettle", images={"first": "/dev/zero"})
    with open("/dev/zero", "rb") as endless, \
            pytest.raises(api.InvalidRequest, match="the image is larger"):
        api.create(model="google/veo-2.0", prompt="a kettle", images={"first": endless})


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


REGRESSIONS = [  # each of these raised something else than InvalidRequest, or saved bad data
    ({"images": {"first": "no/such/file.png"}}, "images.first"),
    ({"images": {"first": "data:image/png;base64,AAAA"}}, "images.first"),
    ({"images": {"first": 123}}, "images.first"),
    ({"images": [PNG]}, "images"),
    ({"metadata": {"a": float("nan")}}, "metadata"),
    ({"metadata": {"a": object()}}, "metadata"),
    ({"metadata": {"a": "x\x00y"}}, "metadata"),
    ({"metadata": "not a dict"}, "metadata"),
    ({"metadata": {"deep": nested(5000)}}, "metadata"),
    ({"for_object": "article-1"}, "for_object"),
    ({"created_by": "bob"}, "created_by"),
    ({"prompt": "a\x00b"}, "prompt"),
    ({"seconds": "²"}, "seconds"),
    ({"seconds": "٥"}, "seconds"),
    ({"guidance_scale": float("nan")}, "guidance_scale"),
    ({"media": {"reference_images": ["https://[::1"]}}, "media"),
    ({"images": {"first": "http://[x]/a.png"}}, "media"),
    ({"media": {"frame_images": [{"input_image": "https://x.example/a.png",
                                  "frame": float("inf")}]}}, "media"),
]


@pytest.mark.parametrize(("kwargs", "field"), REGRESSIONS,
                         ids=[r[1] + "-" + str(i) for i, r in enumerate(REGRESSIONS)])
def test_regressions_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(api.InvalidRequest) as error:
        api.create(**{"model": "google/veo-2.0", "prompt": "a kettle", **kwargs})
    assert any(p.field.startswith(field) for p in error.value.problems), error.value.problems
    assert not VideoJob.objects.exists()


def test_accepted_values_are_stored_as_validated():
    """``b"text"`` and ``"mp4"`` are accepted the way pydantic reads them, and stored so."""
    job = api.create(model="google/veo-2.0", prompt=b"a kettle", output_format="webm",
                     width="1280", height=720, seconds=5, generate_audio="no")
    job.refresh_from_db()
    assert (job.prompt, job.output_format, job.width, job.seconds, job.generate_audio) == (
        "a kettle", "WEBM", 1280, "5", False)


# --- The consumer-side verify helper ------------------------------------------------------------

VERIFY_SECRET = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
header_text = st.one_of(st.text(max_size=60), st.sampled_from(
    ["", "v1,", "v1,!!!", "v2,abc", "v1," + "A" * 44, "1e400", "99999999999999999999999",
     "١٢٣", "-1", " 1 ", "\x00", "NOW", "NOW", "v1,é", "v1,\x00"]))


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200)),
       headers=st.dictionaries(st.sampled_from(["webhook-id", "Webhook-Timestamp",
                                                "WEBHOOK-SIGNATURE", "x-other"]),
                               header_text, max_size=4))
def test_verify_refuses_anything_forged_with_its_own_error(body, headers):
    """Whatever a sender puts in the body and headers, verify() raises
    WebhookVerificationError (a 400 for the receiver), never another exception (a 500)."""
    import time

    from videogen.webhooks import WebhookVerificationError, verify

    # "NOW" stands for a fresh timestamp, so that the signature comparison is reached too.
    headers = {k: str(int(time.time())) if v == "NOW" else v for k, v in headers.items()}
    with pytest.raises(WebhookVerificationError):
        verify(body, headers, VERIFY_SECRET)


def test_a_forged_non_ascii_signature_is_refused_not_a_type_error():
    """hmac.compare_digest raises TypeError for str with non-ASCII characters: a receiver
    using verify() answered such a forged request with a 500."""
    import time

    from videogen.webhooks import WebhookVerificationError, verify

    with pytest.raises(WebhookVerificationError):
        verify(b"{}", {"webhook-id": "msg", "webhook-timestamp": str(int(time.time())),
                       "webhook-signature": "v1,é"}, VERIFY_SECRET)
