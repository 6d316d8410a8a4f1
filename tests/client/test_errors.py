"""Each answer becomes the right error class, with the provider's details, parsed tolerantly."""

import json

import pytest

from tests.client.scripted import CREATE, JOB, client_for
from videogen.client import errors

OPENAI_STYLE = json.dumps({"error": {"message": "nope", "type": "invalid_request_error",
                                     "param": "width", "code": "bad"}}).encode()


@pytest.mark.parametrize(("status", "error_class"), [
    (400, errors.BadRequest), (401, errors.AuthenticationError),
    (402, errors.PaymentRequired), (403, errors.PermissionDenied), (404, errors.NotFound),
    (408, errors.APITimeout), (409, errors.Conflict), (418, errors.BadRequest),
    (422, errors.BadRequest), (429, errors.RateLimited), (500, errors.ServerError),
    (502, errors.ServerError), (503, errors.ServerError), (504, errors.ServerError),
])
def test_each_status_maps_to_its_error(scripted, status, error_class):
    scripted.script = [(status, {"x-request-id": "req-7"}, OPENAI_STYLE)]
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(error_class) as caught:
        client.retrieve("job-1")
    error = caught.value
    assert isinstance(error, errors.VideoAPIError)
    assert (error.status_code, error.message, error.param, error.code, error.type,
            error.request_id) == (status, "nope", "width", "bad", "invalid_request_error",
                                  "req-7")
    assert str(error) == f"{status} nope (param: width)"


@pytest.mark.parametrize(("body", "message"), [
    (b'{"message": "top level"}', "top level"),
    (b'{"error": "just a string"}', "just a string"),
    (b'{"error": {"code": "x"}, "message": "beside the error"}', "beside the error"),
    (b'{"detail": "unknown shape"}', "HTTP 400"),
    (b"[1, 2]", "[1, 2]"),
    (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
    (b"\xff\xfe not utf-8", "not utf-8"),
    (b"", "HTTP 400"),
])
def test_error_bodies_are_parsed_tolerantly(scripted, body, message):
    scripted.script = [(400, {}, body)]
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.BadRequest) as caught:
        client.retrieve("job-1")
    assert message in caught.value.message


def test_a_long_text_body_is_cut(scripted):
    scripted.script = [(400, {"content-type": "text/html"}, b"x" * 10_000)]
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.BadRequest) as caught:
        client.retrieve("job-1")
    assert len(caught.value.message) == 300


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"a string"', b'{"status": "queued"}', b'{"id": "j"}',
    b'{"id": 7, "status": "queued"}', b'{"id": "j", "status": "queued"',
])
def test_success_with_an_unusable_body_is_invalid_response(scripted, body):
    scripted.script = [(200, {}, body)]
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.InvalidResponse) as caught:
        client.retrieve("job-1")
    assert caught.value.status_code == 200


@pytest.mark.parametrize("created_at", ["1e20", "Infinity", "NaN", "-5"])
def test_absurd_times_read_as_unset(scripted, created_at):
    body = b'{"id": "j", "status": "queued", "created_at": %s}' % created_at.encode()
    scripted.script = [(200, {}, body)]
    client, _ = client_for(scripted.url)
    assert client.retrieve("j").created_at is None


def test_rate_limited_keeps_retry_after_and_rate_limit_headers(scripted):
    headers = {"retry-after": "7", "x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
               "x-ratelimit-reset": "7"}
    scripted.script = [(429, headers, b'{"error": {"message": "slow down"}}')]
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(errors.RateLimited) as caught:
        client.retrieve("job-1")
    assert caught.value.retry_after == 7
    assert caught.value.rate_limit == {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                                       "x-ratelimit-reset": "7"}


def test_an_invalid_create_request_is_refused_before_sending(scripted):
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.BadRequest) as caught:
        client.create({"model": "google/veo-2.0", "steps": 500, "colour": "red"})
    assert caught.value.status_code is None and caught.value.param == "steps"
    assert "colour" in caught.value.message and scripted.requests == []


def test_job_ids_cannot_change_the_path(scripted):
    scripted.script = [(200, {}, JOB)]
    client, _ = client_for(scripted.url)
    client.retrieve("a/../b?c=d#e")
    assert scripted.paths() == ["/v2/videos/a%2F..%2Fb%3Fc%3Dd%23e"]
    for bad in ("", ".", ".."):
        with pytest.raises(errors.BadRequest):
            client.retrieve(bad)


def test_an_invalid_download_url_is_a_bad_request(scripted):
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.BadRequest) as caught, client.download("http://[::1"):
        pass
    assert caught.value.param == "url"


def test_redirected_create_is_not_followed(scripted):
    scripted.script = [(307, {"location": "/v2/videos-elsewhere"}, b"")]
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.InvalidResponse):
        client.create(CREATE)
    assert scripted.paths() == ["/v2/videos"]


def test_cancel_is_not_supported(scripted):
    client, _ = client_for(scripted.url)
    with pytest.raises(errors.CancelNotSupported, match="no cancel endpoint"):
        client.cancel("job-1")
    assert scripted.requests == []
