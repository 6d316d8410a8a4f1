"""Create requests refused in Together's error format, naming the field."""

from __future__ import annotations

import base64

import pytest

from .helpers import TINY, create, solid_png


def error_of(response) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]


def test_size_the_model_does_not_offer(api):
    error = error_of(api.post("/v2/videos", json={
        "model": "minimax/video-01-director", "prompt": "a fox", "width": 640, "height": 360}))
    assert error["param"] == "width" and error["code"] == "invalid_parameter"
    assert "1366x768" in error["message"]


def test_missing_prompt(api):
    error = error_of(api.post("/v2/videos", json={"model": "google/veo-3.0"}))
    assert error["param"] == "prompt"


def test_kling_standard_needs_no_prompt(api):
    response = api.post("/v2/videos", json={"model": "kwaivgI/kling-2.1-standard",
                                            "width": 1080, "height": 1080})
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe"])
def test_malformed_json(api, body):
    error = error_of(api.post("/v2/videos", content=body,
                              headers={"Content-Type": "application/json"}))
    assert error["param"] is None and error["code"] == "invalid_json"


def test_body_must_be_an_object(api):
    assert error_of(api.post("/v2/videos", json=["model"]))["code"] == "invalid_json"


@pytest.mark.parametrize("fields, param", [
    ({"colour": "red"}, "colour"),
    ({"model": None}, "model"),
    ({"seconds": "five"}, "seconds"),
    ({"output_format": "AVI"}, "output_format"),
    ({"steps": 500}, "steps"),
    ({"media": {"frame_images": [{"frame": 0}]}}, "media.frame_images[0].input_image"),
])
def test_schema_errors_name_the_field(api, fields, param):
    assert error_of(api.post("/v2/videos", json={**TINY, **fields}))["param"] == param


def test_urls_are_checked_for_form_only(api):
    error = error_of(api.post("/v2/videos", json={
        **TINY, "media": {"frame_images": [{"input_image": "ftp://example.com/a.png"}]}}))
    assert error["param"] == "media.frame_images[0].input_image"
    # A well-formed URL is accepted and never fetched (no network here).
    create(api, media={"frame_images": [{"input_image": "https://example.invalid/a.png"}]})


def test_base64_image_accepted(api):
    image = base64.b64encode(solid_png((255, 0, 0))).decode()
    create(api, media={"frame_images": [{"input_image": image, "frame": 0}]})


def test_media_field_the_model_does_not_accept(api):
    error = error_of(api.post("/v2/videos", json={
        "model": "google/veo-3.0", "prompt": "a fox", "width": 1280, "height": 720,
        "media": {"source_video": "https://example.com/in.mp4"}}))
    assert error["param"] == "media.source_video"


def test_unknown_model_accepted_with_a_warning_header(api):
    response = api.post("/v2/videos", json=TINY)
    assert response.status_code == 200
    assert "unknown model" in response.headers["X-Sandbox-Warnings"]


def test_warnings_do_not_refuse(api):
    # fps 30 is not documented for veo-3.0 (24): a warning, not an error.
    response = api.post("/v2/videos", json={"model": "google/veo-3.0", "prompt": "a fox",
                                            "width": 1280, "height": 720, "fps": 30})
    assert response.status_code == 200
    assert "fps" in response.headers["X-Sandbox-Warnings"]


def test_refused_creates_make_no_job(api, sb):
    api.post("/v2/videos", json={"model": "google/veo-3.0"})
    stats = sb.stats()
    assert stats["jobs_created"] == 0
    assert sum(stats["create_requests_by_fingerprint"].values()) == 1
    assert stats["responses"] == {"400": 1}
