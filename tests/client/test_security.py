"""The API key goes only to the provider's origin, as a Bearer header, and nowhere else: not in
errors, reprs, logs, nor to the host serving a download."""

import json
import logging

import httpx
import pytest

from tests.client.scripted import CREATE, JOB, KEY, client_for
from videogen.client import (
    AuthenticationError,
    InvalidResponse,
    SubmissionOutcomeUnknown,
    VideoClient,
)

ECHO = json.dumps({"error": {"message": f"Invalid API key provided: {KEY}"}}).encode()


def everything_about(error: BaseException) -> str:
    return " ".join([str(error), repr(error), repr(error.args), repr(vars(error))])


def test_the_key_never_appears_in_errors_reprs_or_logs(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = client_for(scripted.url)
    scripted.script = [(500, {}, ECHO), "drop", (401, {}, ECHO)]
    with pytest.raises(AuthenticationError) as auth:
        client.retrieve("job-1")
    scripted.script = [(200, {}, b"<html>" + KEY.encode())]
    with pytest.raises(InvalidResponse) as invalid:
        client.retrieve("job-1")
    scripted.script = ["drop"]
    with pytest.raises(SubmissionOutcomeUnknown) as unknown:
        client.create(CREATE)
    text = " ".join([everything_about(auth.value), everything_about(invalid.value),
                     everything_about(unknown.value), repr(client), str(client), caplog.text])
    assert KEY not in text
    assert "[redacted]" in str(auth.value) and "[redacted]" in str(invalid.value)
    assert "retry 1/2" in caplog.text and "not retried" in caplog.text  # the logs did run


def test_the_key_is_sent_as_a_bearer_header_with_a_user_agent(scripted):
    scripted.script = [(200, {}, JOB)]
    client, _ = client_for(scripted.url)
    client.retrieve("job-1")
    headers = scripted.requests[0][2]
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["user-agent"] == f"videogen/0.1.0 httpx/{httpx.__version__}"


def test_no_key_no_authorization_header(scripted):
    client, _ = client_for(scripted.url, api_key=None)
    scripted.script = [(200, {}, JOB)]
    client.retrieve("job-1")
    assert "authorization" not in scripted.requests[0][2]


def test_downloads_from_another_origin_go_without_the_key(scripted, elsewhere):
    elsewhere.script = [(200, {"content-type": "video/mp4"}, b"\0" * 10)]
    scripted.script = [(200, {}, b"\1" * 10)]
    client, _ = client_for(scripted.url)
    with client.download(elsewhere.url + "/file.mp4") as stream:
        assert b"".join(stream.iter_bytes()) == b"\0" * 10
    with client.download(scripted.url + "/shrt/token") as stream:
        assert b"".join(stream.iter_bytes()) == b"\1" * 10
    assert "authorization" not in elsewhere.requests[0][2]  # another port is another origin
    assert scripted.requests[0][2]["authorization"] == f"Bearer {KEY}"


def test_a_redirect_to_another_origin_drops_the_key(scripted, elsewhere):
    scripted.script = [(302, {"location": elsewhere.url + "/bucket/clip.mp4"}, b"")]
    elsewhere.script = [(200, {}, b"video bytes")]
    client, _ = client_for(scripted.url)
    with client.download(scripted.url + "/shrt/token") as stream:
        assert b"".join(stream.iter_bytes()) == b"video bytes"
    assert scripted.requests[0][2]["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in elsewhere.requests[0][2]


@pytest.mark.parametrize("bad_key", ["tgp key", "tgp\nkey", "tgp_…_key"])
def test_a_key_unfit_for_a_header_is_refused_without_echoing_it(bad_key):
    with pytest.raises(ValueError) as caught:
        VideoClient(api_key=bad_key)
    assert bad_key not in str(caught.value)


def test_a_guarded_download_shows_the_guard_every_hop_before_requesting_it(scripted, elsewhere):
    scripted.script = [(302, {"Location": elsewhere.url + "/cdn/video"}, b"")]
    elsewhere.script = [(301, {"Location": "/cdn/final"}, b""), (200, {}, b"the video")]
    client, _ = client_for(scripted.url)
    seen = []
    with client.download(scripted.url + "/shrt/token", guard=seen.append) as stream:
        assert b"".join(stream.iter_chunks()) == b"the video"
    assert seen == [scripted.url + "/shrt/token", elsewhere.url + "/cdn/video",
                    elsewhere.url + "/cdn/final"]
    # The key went to the provider's origin only, never along the redirects.
    assert all("authorization" not in {k.lower() for k in headers}
               for _, _, headers, _ in elsewhere.requests)


def test_a_guard_refusal_stops_the_download_before_the_refused_request(scripted, elsewhere):
    scripted.script = [(302, {"Location": elsewhere.url + "/internal"}, b"")]

    def guard(url):
        if url.startswith(elsewhere.url):
            raise PermissionError("not there")

    client, _ = client_for(scripted.url)
    with pytest.raises(PermissionError), client.download(scripted.url + "/a", guard=guard):
        pass
    assert elsewhere.requests == []


def test_a_guarded_download_stops_after_ten_redirects(scripted):
    scripted.script = [(302, {"Location": f"/hop/{n}"}, b"") for n in range(12)]
    client, _ = client_for(scripted.url)
    with pytest.raises(InvalidResponse, match="more than 10"), \
            client.download(scripted.url + "/hop/start", guard=lambda url: None):
        pass
    assert len(scripted.requests) == 11
