"""The model table and request validation (no network, no database)."""

import base64

import pytest

from videogen import catalog
from videogen.catalog import BUILTIN, Problem, merge, parse, size_for, validate
from videogen.client.schemas import CreateVideoRequest

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 32).decode()


def errors(data, cat=BUILTIN):
    request, problems = parse(data, cat)
    return [str(p) for p in problems if p.is_error]


def warnings(data, cat=BUILTIN):
    request, problems = parse(data, cat)
    return [str(p) for p in problems if not p.is_error]


def documented_request(spec):
    """The model's own documented combination: first size/resolution, duration, fps."""
    data = {"model": spec.id}
    if spec.prompt_required or spec.warn_without_prompt:  # the table gives a prompt range
        data["prompt"] = "A lighthouse on a cliff at dawn, waves below"
    if spec.uses_resolution:
        data |= {"resolution": spec.resolutions[-1], "ratio": spec.ratios[-1]}
    elif spec.sizes:
        data |= {"width": spec.sizes[-1][0], "height": spec.sizes[-1][1]}
    if spec.durations:
        data["seconds"] = str(spec.durations[0])
    if spec.fps:
        data["fps"] = spec.fps[-1]
    if "first" in spec.keyframes and "frame_images" in spec.media_fields:
        data["media"] = {"frame_images": [{"input_image": PNG, "frame": "first"}]}
    for group in spec.required_media:  # r2v: a reference; videoedit: the video to edit
        data.setdefault("media", {})[group[0]] = REQUIRED_EXAMPLE[group[0]]
    return data


REQUIRED_EXAMPLE = {"reference_images": ["https://img.example.com/cat.png"],
                    "source_video": "https://v.example.com/in.mp4"}


@pytest.mark.parametrize("model_id", sorted(BUILTIN))
def test_every_model_accepts_its_documented_combination(model_id):
    request, problems = parse(documented_request(BUILTIN[model_id]), BUILTIN)
    assert request is not None
    assert [p for p in problems if p.is_error] == []
    assert [p for p in problems if not p.is_error] == []


def test_table_covers_the_documented_models():
    assert len(BUILTIN) == 26
    assert BUILTIN["minimax/hailuo-02"].sizes == ((1366, 768), (1920, 1080))
    assert BUILTIN["pixverse/pixverse-v5"].fps == (24, 16)
    assert BUILTIN["google/veo-2.0"].keyframes == {"first", "last"}
    assert not BUILTIN["kwaivgI/kling-2.1-standard"].prompt_required
    assert BUILTIN["Wan-AI/wan2.7-videoedit"].media_fields == {"source_video", "reference_images"}
    assert BUILTIN["openai/sora-2"].prompt_range == (1, 4000)
    assert BUILTIN["minimax/video-01-director"].organization == "minimax"


def test_docs_example_with_off_table_duration_and_fps_only_warns():
    data = {"model": "minimax/hailuo-02", "prompt": "A cat playing piano", "seconds": "6",
            "fps": 30, "steps": 30, "guidance_scale": 8.0, "width": 1366, "height": 768}
    assert errors(data) == []
    assert warnings(data) == [
        "seconds: minimax/hailuo-02 is documented for 10 s; 6 s may be adjusted by the provider",
        "fps: minimax/hailuo-02 is documented at 25 fps, got 30",
    ]


def test_wrong_size_names_the_sizes_allowed():
    data = {"model": "minimax/hailuo-02", "prompt": "a cat", "width": 1280, "height": 720}
    assert errors(data) == [
        "width: minimax/hailuo-02 supports 1366x768 or 1920x1080, got 1280x720"
    ]


def test_width_without_height():
    assert errors({"model": "google/veo-2.0", "prompt": "a cat", "width": 1280}) == [
        "height: give width and height together"
    ]


def test_missing_prompt_refused_except_for_kling_image_models():
    assert errors({"model": "google/veo-3.0"}) == [
        "prompt: google/veo-3.0 requires a prompt (2–3000 characters)"
    ]
    assert errors({"model": "google/veo-3.0", "prompt": "   "}) == [
        "prompt: google/veo-3.0 requires a prompt (2–3000 characters)"
    ]
    assert errors({"model": "kwaivgI/kling-2.1-standard"}) == []


def test_prompt_length_per_model():
    assert errors({"model": "pixverse/pixverse-v5", "prompt": "x" * 2049}) == [
        "prompt: pixverse/pixverse-v5 takes 2–2048 characters, got 2049"
    ]
    assert errors({"model": "minimax/hailuo-02", "prompt": "x"}) == [
        "prompt: minimax/hailuo-02 takes 2–3000 characters, got 1"
    ]
    assert errors({"model": "openai/sora-2", "prompt": "x"}) == []


def test_seconds_outside_the_api_range_refused_and_wan_range_wider():
    assert errors({"model": "google/veo-2.0", "prompt": "a cat", "seconds": "12"}) == [
        "seconds: google/veo-2.0 makes clips of 1–10 seconds, got 12"
    ]
    assert errors({"model": "Wan-AI/wan2.7-t2v", "prompt": "a cat", "seconds": 12}) == []
    assert errors({"model": "Wan-AI/wan2.7-r2v", "prompt": "a cat", "seconds": 12,
                   "media": {"reference_images": ["https://img.example.com/c.png"]}}) == [
        "seconds: Wan-AI/wan2.7-r2v makes clips of 2–10 seconds, got 12"
    ]


def test_seconds_must_be_whole():
    assert errors({"model": "google/veo-2.0", "prompt": "a cat", "seconds": 5.5}) == [
        "seconds: must be a whole number of seconds"
    ]
    assert errors({"model": "google/veo-2.0", "prompt": "a cat", "seconds": "5s"}) == [
        'seconds: must be a whole number of seconds, like "5"'
    ]
    request, _ = parse({"model": "google/veo-2.0", "prompt": "a cat", "seconds": 5})
    assert request.seconds == "5"


def test_last_keyframe_refused_where_only_first_is_supported():
    data = {"model": "google/veo-3.0", "prompt": "a cat",
            "media": {"frame_images": [{"input_image": PNG, "frame": "last"}]}}
    assert errors(data) == [
        "media.frame_images[0].frame: google/veo-3.0 supports keyframes at first only, got 'last'"
    ]


def test_two_keyframes_are_first_and_last():
    frames = [{"input_image": PNG}, {"input_image": JPEG}]
    assert errors({"model": "google/veo-2.0", "prompt": "a cat",
                   "media": {"frame_images": frames}}) == []
    assert errors({"model": "google/veo-3.0", "prompt": "a cat",
                   "media": {"frame_images": frames}}) == [
        "media.frame_images: google/veo-3.0 takes at most 1 keyframe image(s) (first), got 2"
    ]


def test_numeric_last_frame_is_seconds_times_fps():
    data = {"model": "google/veo-2.0", "prompt": "a cat", "seconds": "5", "fps": 24,
            "media": {"frame_images": [{"input_image": PNG, "frame": 0},
                                       {"input_image": PNG, "frame": 120}]}}
    assert errors(data) == []
    data["media"]["frame_images"][1]["frame"] = 48
    assert errors(data) == [
        "media.frame_images[1].frame: google/veo-2.0 supports keyframes at first and last only, "
        "got 48"
    ]


def test_legacy_top_level_frame_images_are_checked_like_media():
    data = {"model": "minimax/video-01-director", "prompt": "a cat",
            "frame_images": [{"input_image": PNG, "frame": 0}]}
    assert errors(data) == []
    request, _ = parse(data)
    assert request.to_wire()["media"] == {"frame_images": [{"input_image": PNG, "frame": 0}]}
    assert "frame_images" not in request.to_wire()


def test_media_field_the_model_lacks_is_refused():
    data = {"model": "Wan-AI/wan2.7-t2v", "prompt": "a cat",
            "media": {"source_video": "https://example.com/in.mp4"}}
    assert errors(data) == [
        "media.source_video: Wan-AI/wan2.7-t2v does not accept source_video (accepts: "
        "audio_inputs)"
    ]


# --- Where the provider's docs and its table disagree: warned and sent, not refused -------------


@pytest.mark.parametrize("where", ["media", "top level"])
def test_reference_images_on_hailuo_as_the_docs_example_sends_them(where):
    """together-video's "Reference Images" example: hailuo-02, whose table lists none."""
    urls = ["https://example.com/cat.jpg"]
    data = {"model": "minimax/hailuo-02", "prompt": "A cat dancing energetically"}
    data |= {"media": {"reference_images": urls}} if where == "media" else {
        "reference_images": urls}
    assert errors(data) == []
    assert warnings(data) == [
        "media.reference_images: minimax/hailuo-02's table lists no reference_images (lists: "
        "frame_images); sent, as the provider's docs show it, and the provider decides"
    ]
    request, _ = parse(data)
    assert request.to_wire()["media"] == {"reference_images": urls}


def test_other_media_the_docs_never_show_stay_refused():
    data = {"model": "minimax/hailuo-02", "prompt": "a cat",
            "media": {"reference_videos": [{"video": "https://example.com/a.mp4"}]}}
    assert errors(data) == [
        "media.reference_videos: minimax/hailuo-02 does not accept reference_videos (accepts: "
        "frame_images)"
    ]
    # Wan 2.7 lists each model's inputs; the spec: "media fields a model does not accept are
    # rejected".
    wan = {"model": "Wan-AI/wan2.7-t2v", "prompt": "a cat",
           "media": {"reference_images": ["https://example.com/cat.jpg"]}}
    assert errors(wan) == [
        "media.reference_images: Wan-AI/wan2.7-t2v does not accept reference_images (accepts: "
        "audio_inputs)"
    ]
    # A host site's own model takes only what it lists.
    custom = merge(BUILTIN, {"acme/one": {"sizes": ["640x360"]}})
    assert errors({"model": "acme/one", "prompt": "a cat",
                   "reference_images": ["https://example.com/cat.jpg"]}, custom) == [
        "media.reference_images: acme/one does not accept reference_images (accepts: none)"
    ]


@pytest.mark.parametrize("model_id", ["kwaivgI/kling-2.1-master", "kwaivgI/kling-2.0-master",
                                      "kwaivgI/kling-1.6-standard"])
def test_kling_without_a_prompt_is_sent_with_a_warning(model_id):
    """"prompt is required for all models except Kling", though the table gives a range."""
    assert errors({"model": model_id}) == []
    assert warnings({"model": model_id}) == [
        f"prompt: {model_id}'s table lists a 2–2500 character prompt; sent without one, as the "
        "docs allow for Kling"
    ]
    assert errors({"model": model_id, "prompt": "x"}) == [
        f"prompt: {model_id} takes 2–2500 characters, got 1"
    ]


def test_numbered_keyframes_between_first_and_last_as_the_spec_example_sends_them():
    frames = [{"input_image": PNG, "frame": 0}, {"input_image": PNG, "frame": 48},
              {"input_image": PNG, "frame": "last"}]
    data = {"model": "ByteDance/Seedance-1.0-lite", "prompt": "a cat", "media": {
        "frame_images": frames}}
    assert errors(data) == []
    assert warnings(data) == [
        "media.frame_images[1].frame: ByteDance/Seedance-1.0-lite's table lists keyframes at "
        "first and last only; frame 48 is sent, as the provider's docs allow numbered keyframes"
    ]
    # "more = frame required per image"
    del frames[1]["frame"]
    assert errors(data) == [
        "media.frame_images: ByteDance/Seedance-1.0-lite takes at most 2 keyframe image(s) "
        "(first and last), got 3; more need a frame number each"
    ]
    # A first-frame-only model has no second anchor: the docs never show one.
    hailuo = {"model": "minimax/hailuo-02", "prompt": "a cat", "media": {"frame_images": [
        {"input_image": PNG, "frame": 0}, {"input_image": PNG, "frame": 48},
        {"input_image": PNG, "frame": 250}]}}
    assert errors(hailuo) == [
        "media.frame_images: minimax/hailuo-02 takes at most 1 keyframe image(s) (first), got 3"
    ]


def test_wan27_resolution_and_ratio():
    ok = {"model": "Wan-AI/wan2.7-videoedit", "prompt": "make it rain", "resolution": "1080P",
          "ratio": "9:16", "media": {"source_video": {"video": "https://example.com/in.mp4"},
                                     "reference_images": ["https://example.com/ref.png"]}}
    assert errors(ok) == []
    assert errors(ok | {"resolution": "480P", "ratio": "2:1"}) == [
        "resolution: Wan-AI/wan2.7-videoedit supports 720P or 1080P, got 480P",
        "ratio: Wan-AI/wan2.7-videoedit supports 16:9, 9:16, 1:1, 4:3 or 3:4, got 2:1",
    ]
    assert size_for("720P", "16:9") == (1280, 720)
    assert size_for("1080P", "9:16") == (1080, 1920)
    assert size_for("720P", "4:3") == (960, 720)


def test_wan27_bounds_negative_prompt_and_seed():
    data = {"model": "Wan-AI/wan2.7-t2v", "prompt": "a cat", "negative_prompt": "n" * 501,
            "seed": 2**31}
    assert errors(data) == [
        "negative_prompt: Wan-AI/wan2.7-t2v takes at most 500 characters, got 501",
        "seed: Wan-AI/wan2.7-t2v takes seeds 0–2147483647, got 2147483648",
    ]


def test_images_urls_and_audio_are_checked():
    data = {"model": "Wan-AI/wan2.7-i2v", "prompt": "a cat",
            "media": {"frame_images": [{"input_image": "not base64!!"}],
                      "frame_videos": [{"video": "ftp://example.com/a.mp4"}],
                      "audio_inputs": ["file:///etc/passwd", {"audio": "https://x.org/a.ogg"}]}}
    assert errors(data) == [
        "media.frame_images[0].input_image: must be an http(s) URL or valid base64 image data",
        "media.frame_videos[0].video: must be an http or https URL, got scheme 'ftp'",
        "media.audio_inputs[0]: must be an http or https URL, got scheme 'file'",
    ]
    assert warnings(data) == [
        "media.audio_inputs[1]: audio inputs must be WAV or MP3 (3–30 s, ≤ 15 MB)"
    ]


def test_image_type_size_and_data_uri():
    gif = base64.b64encode(b"GIF89a" + b"\0" * 20).decode()
    base = {"model": "google/veo-2.0", "prompt": "a cat"}
    field = "media.frame_images[0].input_image"

    def with_image(value):
        return base | {"media": {"frame_images": [{"input_image": value}]}}

    assert errors(with_image(gif)) == [f"{field}: image must be PNG, JPEG or WEBP"]
    assert errors(with_image("data:image/png;base64," + PNG)) == [
        f"{field}: send raw base64 without the 'data:…;base64,' prefix, or a URL"
    ]
    huge = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024)).decode()
    assert errors(with_image(huge)) == [f"{field}: image larger than 10 MB"]
    webp = base64.b64encode(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8).decode()
    assert errors(with_image(webp)) == []
    assert errors(with_image("https://example.com/first.jpg")) == []


def test_unknown_model_passes_with_a_warning():
    data = {"model": "acme/new-model", "prompt": "a cat", "width": 999, "height": 333}
    assert errors(data) == []
    assert warnings(data)[0].startswith("model: unknown model 'acme/new-model'")


def test_undocumented_wan22_is_validated_loosely():
    data = {"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "width": 999, "height": 333,
            "seconds": "7", "fps": 12}
    assert errors(data) == []
    assert warnings(data) == []


def test_schema_errors_name_the_field():
    assert errors({"model": "google/veo-2.0", "prompt": "a cat", "width": "wide",
                   "steps": 5, "colour": "red", "output_format": "GIF"}) == [
        "width: Input should be a valid integer, unable to parse string as an integer",
        "steps: Input should be greater than or equal to 10",
        "output_format: Input should be 'MP4' or 'WEBM'",
        "colour: unknown field",
    ]
    assert errors({"prompt": "no model"}) == ["model: Field required"]
    assert parse(["not", "a", "dict"])[1] == [Problem("request", "must be a JSON object")]


def test_guidance_above_twelve_warns():
    data = {"model": "google/veo-2.0", "prompt": "a cat", "guidance_scale": 14}
    assert errors(data) == []
    assert warnings(data) == [
        "guidance_scale: values above 12 cause artifacts; 6–10 is recommended"
    ]


def test_host_site_overrides_and_additions():
    custom = merge(BUILTIN, {
        "acme/studio-1": {"sizes": ["640x360"], "durations": [4], "fps": [12],
                          "prompt_range": [3, 40]},
        "google/veo-2.0": {"sizes": ["1920x1080"]},
        "openai/sora-2": None,
    })
    assert errors({"model": "acme/studio-1", "prompt": "a cat", "width": 640,
                   "height": 360}, custom) == []
    assert errors({"model": "acme/studio-1", "prompt": "a", "width": 320, "height": 180},
                  custom) == [
        "prompt: acme/studio-1 takes 3–40 characters, got 1",
        "width: acme/studio-1 supports 640x360, got 320x180",
    ]
    assert custom["google/veo-2.0"].sizes == ((1920, 1080),)
    assert custom["google/veo-2.0"].keyframes == {"first", "last"}
    assert "openai/sora-2" not in custom
    with pytest.raises(ValueError, match=r"VIDEOGEN\['MODELS'\]\['bad/x'\]: sizes"):
        merge(BUILTIN, {"bad/x": {"sizes": ["huge"]}})


def test_site_catalog_reads_settings_at_call_time(settings):
    assert catalog.get_model("acme/studio-1") is None
    settings.VIDEOGEN = {"MODELS": {"acme/studio-1": {"sizes": ["640x360"]}}}
    assert catalog.get_model("acme/studio-1").sizes == ((640, 360),)
    assert "google" in catalog.grouped()


def test_summary_line_for_choosers():
    assert BUILTIN["google/veo-2.0"].summary() == (
        "5s · 1280×720, 720×1280 · keyframes: first + last · prompt ≤ 3000"
    )
    assert "720P, 1080P × 16:9" in BUILTIN["Wan-AI/wan2.7-t2v"].summary()


def test_validate_accepts_a_built_request():
    request = CreateVideoRequest(model="google/veo-2.0", prompt="a cat")
    assert validate(request, BUILTIN) == []



def test_site_catalog_follows_a_settings_change_whatever_the_objects_ids(settings, monkeypatch):
    # CPython often hands a freed object's id() to the next allocation. A catalog cached by
    # id(settings) then outlived a settings change (the CI failure of the test above). Make
    # every id collide, so the test does not depend on the allocator's luck.
    monkeypatch.setattr(catalog, "id", lambda obj: 1, raising=False)
    assert catalog.get_model("acme/studio-1") is None
    settings.VIDEOGEN = {"MODELS": {"acme/studio-1": {"sizes": ["640x360"]}}}
    assert catalog.get_model("acme/studio-1").sizes == ((640, 360),)


def test_a_model_that_needs_an_input_refuses_without_it():
    r2v = {"model": "Wan-AI/wan2.7-r2v", "prompt": "the cat from the photo, dancing"}
    assert errors(r2v) == [
        "media.reference_images: Wan-AI/wan2.7-r2v needs reference_images or reference_videos"]
    assert errors(r2v | {"media": {"reference_videos": [{"video": "https://v.example.com/a.mp4"}]}
                         }) == []
    edit = {"model": "Wan-AI/wan2.7-videoedit", "prompt": "make it night",
            "media": {"reference_images": ["https://img.example.com/moon.png"]}}
    assert errors(edit) == ["media.source_video: Wan-AI/wan2.7-videoedit needs source_video"]
    with pytest.raises(ValueError, match="unknown media fields"):
        merge(BUILTIN, {"acme/x": {"required_media": [["posters"]]}})


def test_a_prompt_over_the_apis_limit_is_refused_in_the_models_words():
    """Not pydantic's "String should have at most 32000 characters"."""
    data = {"model": "minimax/hailuo-02", "prompt": "x" * 200_000, "width": "wide"}
    assert errors(data) == [
        "prompt: minimax/hailuo-02 takes 2–3000 characters, got 200000",
        "width: Input should be a valid integer, unable to parse string as an integer"]
    assert errors({"model": "acme/new", "prompt": "x" * 32_001}) == [
        "prompt: String should have at most 32000 characters"]


def test_an_undocumented_model_is_warned_about_inputs_its_kind_does_not_take():
    data = {"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat",
            "media": {"reference_images": ["https://img.example.com/cat.png"]}}
    assert errors(data) == []
    assert warnings(data) == ["media.reference_images: Wan-AI/Wan2.2-T2V-A14B is not "
                              "documented to take reference_images; the provider will decide"]


def test_organizations_have_the_providers_names():
    assert BUILTIN["kwaivgI/kling-2.1-pro"].organization_name == "Kling (Kuaishou)"
    assert BUILTIN["minimax/hailuo-02"].label == "MiniMax Hailuo 02"
    assert catalog.ModelSpec(id="acme/x").organization_name == "acme"
