"""The provider's model table, and validation of create requests against it.

The table is data that changes, so it lives here once (``BUILTIN``) and a host site can add or
override models from ``VIDEOGEN["MODELS"]``. Validation refuses only what is unambiguous — a size
the model does not offer, a keyframe position or media field it lacks, prompt length, a missing
prompt, malformed images or URLs — and warns about the rest (the provider is the final judge).
Where the provider's own examples or prose allow what its model table does not, the request is
sent with a warning, never refused: listed durations and fps are defaults, reference images go
with any of the older models (the docs' "Reference Images" example sends them to hailuo-02),
Kling may go without a prompt, and numbered keyframes between the first and last are allowed.

This module must work without Django configured: the sandbox uses it on its own.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from videogen import media as media_values
from videogen.client.schemas import CreateVideoRequest

Kind = Literal["t2v", "i2v", "r2v", "videoedit"]
MEDIA_FIELDS = (
    "frame_images", "frame_videos", "reference_images", "reference_videos", "source_video",
    "audio_inputs",
)
# Decoded keyframe images above this are refused before they reach the provider.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_URL_LENGTH = 2048
AUDIO_EXTENSIONS = (".wav", ".mp3")
WAN_RESOLUTIONS = ("720P", "1080P")
WAN_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
# (width, height) per ratio at a short side of 1; scaled by the resolution's short side.
_RATIO_SHAPE = {"16:9": (16 / 9, 1), "9:16": (1, 16 / 9), "1:1": (1, 1), "4:3": (4 / 3, 1),
                "3:4": (1, 4 / 3)}
_SHORT_SIDE = {"720P": 720, "1080P": 1080}
#: The providers' names for the organizations in model ids, for choosers ("kwaivgI" means
#: nothing to people); an organization not listed is shown as it is written in the id.
ORGANIZATION_NAMES = {
    "minimax": "MiniMax", "google": "Google", "ByteDance": "ByteDance", "pixverse": "PixVerse",
    "kwaivgI": "Kling (Kuaishou)", "Wan-AI": "Wan (Alibaba)", "vidu": "Vidu", "openai": "OpenAI",
}


class ModelSpec(BaseModel):
    """What one model accepts. Sizes are ``(width, height)``; the first duration and fps are
    the model's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    display_name: str = ""
    kind: Kind = "t2v"
    durations: tuple[int, ...] = ()
    seconds_default: int | None = Field(None, description="Default when no durations are listed.")
    seconds_range: tuple[int, int] = (1, 10)
    sizes: tuple[tuple[int, int], ...] = ()
    resolutions: tuple[str, ...] = ()
    ratios: tuple[str, ...] = ()
    fps: tuple[int, ...] = ()
    keyframes: frozenset[Literal["first", "last"]] = frozenset()
    prompt_required: bool = True
    prompt_range: tuple[int, int] = (1, 32000)
    negative_prompt_max: int | None = None
    seed_max: int | None = None
    media_fields: frozenset[str] = frozenset()
    required_media: tuple[tuple[str, ...], ...] = Field(
        (), description="Inputs the model cannot work without: each tuple needs one of its "
                        "media fields (r2v: a reference image or video).")
    warned_media_fields: frozenset[str] = Field(frozenset(), description=(
        "Media fields the table does not list for this model but the provider's docs send "
        "with it: sent, with a warning."))
    warn_without_prompt: bool = Field(False, description=(
        "The table gives a prompt range but the docs say the model needs none (Kling): a "
        "missing prompt is sent, with a warning."))
    generate_audio: bool = False
    typical_generation_seconds: float = 120.0
    loose: bool = Field(False, description="Undocumented model: only the API's general bounds.")

    @field_validator("sizes", mode="before")
    @classmethod
    def _parse_sizes(cls, value: Any) -> Any:
        # Settings may write sizes as "1280x720" strings.
        if isinstance(value, list | tuple):
            return tuple(_parse_size(item) for item in value)
        return value

    @field_validator("media_fields", "warned_media_fields")
    @classmethod
    def _known_media(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(MEDIA_FIELDS))
        if unknown:
            raise ValueError(f"unknown media fields {unknown}; allowed: {list(MEDIA_FIELDS)}")
        return value

    @field_validator("required_media")
    @classmethod
    def _known_required(cls, value: tuple[tuple[str, ...], ...]
                        ) -> tuple[tuple[str, ...], ...]:
        unknown = sorted({name for group in value for name in group} - set(MEDIA_FIELDS))
        if unknown:
            raise ValueError(f"unknown media fields {unknown}; allowed: {list(MEDIA_FIELDS)}")
        return value

    @property
    def organization(self) -> str:
        return self.id.split("/", 1)[0] if "/" in self.id else ""

    @property
    def organization_name(self) -> str:
        """The provider's name for people ("Kling (Kuaishou)" for ``kwaivgI``)."""
        return ORGANIZATION_NAMES.get(self.organization, self.organization)

    @property
    def label(self) -> str:
        """The name the chooser shows ("MiniMax Hailuo 02"), else the id."""
        return self.display_name or self.id

    @property
    def default_seconds(self) -> int | None:
        return self.durations[0] if self.durations else self.seconds_default

    @property
    def default_fps(self) -> int | None:
        return self.fps[0] if self.fps else None

    @property
    def uses_resolution(self) -> bool:
        return bool(self.resolutions)

    def size_text(self) -> str:
        """``720p, 1080p × 16:9, 9:16`` or ``640×360, 480×360, 360×360, 270×360 +16``."""
        if self.uses_resolution:
            return f"{', '.join(self.resolutions)} × {', '.join(self.ratios)}"
        shown = ", ".join(f"{w}×{h}" for w, h in self.sizes[:4])
        return shown + (f" +{len(self.sizes) - 4}" if len(self.sizes) > 4 else "")

    def summary(self) -> str:
        """One line for people choosing a model: duration, sizes, keyframes, prompt limit."""
        parts = []
        if self.durations:
            parts.append("/".join(f"{d}s" for d in self.durations))
        if sizes := self.size_text():
            parts.append(sizes)
        if self.keyframes:
            parts.append("keyframes: " + " + ".join(k for k in ("first", "last")
                                                    if k in self.keyframes))
        if self.prompt_required:
            parts.append(f"prompt ≤ {self.prompt_range[1]}")
        else:
            parts.append("prompt optional")
        return " · ".join(parts)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _parse_size(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", value)
        if not match:
            raise ValueError(f"size {value!r} is not WIDTHxHEIGHT")
        return int(match[1]), int(match[2])
    width, height = value
    return int(width), int(height)


def size_for(resolution: str, ratio: str) -> tuple[int, int]:
    """Pixel size of a Wan 2.7 resolution and ratio: 720P at 16:9 is 1280×720."""
    short = _SHORT_SIDE[resolution]
    width, height = _RATIO_SHAPE[ratio]
    return round(short * width), round(short * height)


# --- The table (together-api.md, "Models") -----------------------------------------------------

_KLING_SIZES = ("1920x1080", "1080x1080", "1080x1920")
_SEEDANCE_SIZES = ("864x480", "736x544", "640x640", "960x416", "416x960", "1248x704",
                   "1120x832", "960x960", "1504x640", "640x1504")
_PIXVERSE_SIZES = ("640x360", "480x360", "360x360", "270x360", "360x640", "960x540", "720x540",
                   "540x540", "405x540", "540x960", "1280x720", "960x720", "720x720", "540x720",
                   "720x1280", "1920x1080", "1440x1080", "1080x1080", "810x1080", "1080x1920")
_VEO3_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920")
_VIDU2_SIZES = ("1920x1080", "1080x1080", "1080x1920", "1280x720", "720x720", "720x1280",
                "640x360", "360x360", "360x640")
_FIRST = frozenset({"first"})
_FIRST_LAST = frozenset({"first", "last"})
_FRAMES = frozenset({"frame_images"})
# The docs' "Reference Images" example sends reference_images to minimax/hailuo-02, and their
# parameter table lists it for every model; only Wan 2.7's inputs are listed per model.
_DOCS_REFERENCES = frozenset({"reference_images"})
# "prompt is required for all models except Kling", though the table gives these a range.
_KLING_PROMPT_OPTIONAL = {"prompt_required": False, "warn_without_prompt": True}


def _spec(model_id: str, name: str, **fields: Any) -> ModelSpec:
    if fields.get("keyframes") and "media_fields" not in fields:
        fields["media_fields"] = _FRAMES
    fields.setdefault("warned_media_fields", _DOCS_REFERENCES - fields.get("media_fields",
                                                                            frozenset()))
    return ModelSpec(id=model_id, display_name=name, **fields)


def _wan27(suffix: str, name: str, kind: Kind, media: set[str], **fields: Any) -> ModelSpec:
    return _spec(
        f"Wan-AI/wan2.7-{suffix}", name, kind=kind, seconds_default=5, fps=(30,),
        resolutions=WAN_RESOLUTIONS, ratios=WAN_RATIOS, prompt_range=(2, 5000),
        negative_prompt_max=500, seed_max=2_147_483_647, media_fields=frozenset(media),
        # The spec: "media fields a model does not accept are rejected"; Wan 2.7 lists its own.
        warned_media_fields=frozenset(),
        typical_generation_seconds=180, **fields,
    )


def _builtin_specs() -> list[ModelSpec]:
    prompt3000 = {"prompt_range": (2, 3000)}
    kling = {"sizes": _KLING_SIZES, "durations": (5,), "fps": (24,)}
    return [
        _spec("minimax/video-01-director", "MiniMax Video-01 Director", durations=(5,),
              sizes=("1366x768",), fps=(25,), keyframes=_FIRST, typical_generation_seconds=150,
              **prompt3000),
        _spec("minimax/hailuo-02", "MiniMax Hailuo 02", durations=(10,),
              sizes=("1366x768", "1920x1080"), fps=(25,), keyframes=_FIRST,
              typical_generation_seconds=240, **prompt3000),
        _spec("google/veo-2.0", "Google Veo 2.0", durations=(5,), sizes=("1280x720", "720x1280"),
              fps=(24,), keyframes=_FIRST_LAST, typical_generation_seconds=90, **prompt3000),
        *[
            _spec(f"google/{variant}", name, durations=(8,), sizes=_VEO3_SIZES, fps=(24,),
                  keyframes=_FIRST, generate_audio=variant.endswith("audio"),
                  typical_generation_seconds=60 if "fast" in variant else 120, **prompt3000)
            for variant, name in (
                ("veo-3.0", "Google Veo 3.0"),
                ("veo-3.0-audio", "Google Veo 3.0 + audio"),
                ("veo-3.0-fast", "Google Veo 3.0 Fast"),
                ("veo-3.0-fast-audio", "Google Veo 3.0 Fast + audio"),
            )
        ],
        _spec("ByteDance/Seedance-1.0-lite", "Seedance 1.0 Lite", durations=(5,),
              sizes=_SEEDANCE_SIZES, fps=(24,), keyframes=_FIRST_LAST,
              typical_generation_seconds=60, **prompt3000),
        _spec("ByteDance/Seedance-1.0-pro", "Seedance 1.0 Pro", durations=(5,),
              sizes=_SEEDANCE_SIZES, fps=(24,), keyframes=_FIRST_LAST,
              typical_generation_seconds=120, **prompt3000),
        _spec("pixverse/pixverse-v5", "PixVerse v5", durations=(5,), sizes=_PIXVERSE_SIZES,
              fps=(24, 16), keyframes=_FIRST_LAST, prompt_range=(2, 2048),
              typical_generation_seconds=60),
        _spec("kwaivgI/kling-2.1-master", "Kling 2.1 Master", keyframes=_FIRST,
              prompt_range=(2, 2500), typical_generation_seconds=240, **_KLING_PROMPT_OPTIONAL,
              **kling),
        _spec("kwaivgI/kling-2.1-standard", "Kling 2.1 Standard", keyframes=_FIRST,
              prompt_required=False, prompt_range=(0, 2500), typical_generation_seconds=120,
              **kling),
        _spec("kwaivgI/kling-2.1-pro", "Kling 2.1 Pro", keyframes=_FIRST_LAST,
              prompt_required=False, prompt_range=(0, 2500), typical_generation_seconds=180,
              **kling),
        _spec("kwaivgI/kling-2.0-master", "Kling 2.0 Master", durations=(5,),
              sizes=("1280x720", "720x720", "720x1280"), fps=(24,), keyframes=_FIRST,
              prompt_range=(2, 2500), typical_generation_seconds=240, **_KLING_PROMPT_OPTIONAL),
        _spec("kwaivgI/kling-1.6-standard", "Kling 1.6 Standard", durations=(5,),
              sizes=_KLING_SIZES, fps=(30, 24), keyframes=_FIRST, prompt_range=(2, 2500),
              typical_generation_seconds=120, **_KLING_PROMPT_OPTIONAL),
        _spec("kwaivgI/kling-1.6-pro", "Kling 1.6 Pro", keyframes=_FIRST,
              prompt_required=False, prompt_range=(0, 2500), typical_generation_seconds=180,
              **kling),
        # Undocumented: what they take is a guess from their kind; other inputs are warned about.
        _spec("Wan-AI/Wan2.2-I2V-A14B", "Wan 2.2 I2V A14B (image-to-video)", kind="i2v",
              loose=True, keyframes=_FIRST_LAST, prompt_required=False),
        _spec("Wan-AI/Wan2.2-T2V-A14B", "Wan 2.2 T2V A14B (text-to-video)", loose=True),
        _wan27("t2v", "Wan 2.7 text-to-video", "t2v", {"audio_inputs"}, seconds_range=(2, 15)),
        _wan27("i2v", "Wan 2.7 image-to-video", "i2v",
               {"frame_images", "frame_videos", "audio_inputs"}, keyframes=_FIRST_LAST,
               seconds_range=(2, 15)),
        _wan27("r2v", "Wan 2.7 reference-to-video", "r2v",
               {"reference_images", "reference_videos"}, seconds_range=(2, 10),
               required_media=(("reference_images", "reference_videos"),)),
        _wan27("videoedit", "Wan 2.7 video edit", "videoedit",
               {"source_video", "reference_images"}, seconds_range=(2, 10),
               required_media=(("source_video",),)),
        _spec("vidu/vidu-2.0", "Vidu 2.0", durations=(8,), sizes=_VIDU2_SIZES, fps=(24,),
              keyframes=_FIRST_LAST, typical_generation_seconds=90, **prompt3000),
        _spec("vidu/vidu-q1", "Vidu Q1", durations=(5,), sizes=_KLING_SIZES, fps=(24,),
              keyframes=_FIRST_LAST, typical_generation_seconds=90, **prompt3000),
        *[
            _spec(f"openai/{variant}", name, durations=(8,), sizes=("1280x720", "720x1280"),
                  keyframes=_FIRST, prompt_range=(1, 4000), generate_audio=True,
                  typical_generation_seconds=300 if variant.endswith("pro") else 180)
            for variant, name in (("sora-2", "OpenAI Sora 2"), ("sora-2-pro", "OpenAI Sora 2 Pro"))
        ],
    ]


BUILTIN: Mapping[str, ModelSpec] = {spec.id: spec for spec in _builtin_specs()}


# --- The site's catalog: BUILTIN plus VIDEOGEN["MODELS"] ---------------------------------------

# Where ``site_catalog()`` comes from. Django-free here: the Django side (videogen.conf, set
# up in AppConfig.ready) plugs in BUILTIN plus VIDEOGEN["MODELS"]; without Django it is BUILTIN.
_site_source: list[Callable[[], Mapping[str, ModelSpec]]] = []


def merge(base: Mapping[str, ModelSpec], overrides: Mapping[str, Mapping[str, Any]]
          ) -> dict[str, ModelSpec]:
    """``base`` with models added or fields overridden; a ``None`` value removes a model."""
    merged = dict(base)
    for model_id, fields in overrides.items():
        if fields is None:
            merged.pop(model_id, None)
            continue
        current = merged[model_id].model_dump() if model_id in merged else {"id": model_id}
        try:
            merged[model_id] = ModelSpec.model_validate({**current, **fields, "id": model_id})
        except ValidationError as error:
            raise ValueError(f"VIDEOGEN['MODELS'][{model_id!r}]: {_first_error(error)}") from None
    return merged


def site_catalog() -> Mapping[str, ModelSpec]:
    """The models this site knows: ``BUILTIN``, plus ``VIDEOGEN["MODELS"]`` when Django runs."""
    return _site_source[0]() if _site_source else BUILTIN


def use_site_catalog(source: Callable[[], Mapping[str, ModelSpec]]) -> None:
    """Make ``source`` what :func:`site_catalog` (and every ``catalog=None``) reads."""
    _site_source[:] = [source]


def get_model(model_id: str, catalog: Mapping[str, ModelSpec] | None = None) -> ModelSpec | None:
    return (site_catalog() if catalog is None else catalog).get(model_id)


def grouped(catalog: Mapping[str, ModelSpec] | None = None) -> dict[str, list[ModelSpec]]:
    """Models by organization, for choosers."""
    groups: dict[str, list[ModelSpec]] = {}
    for spec in (site_catalog() if catalog is None else catalog).values():
        groups.setdefault(spec.organization or "other", []).append(spec)
    return groups


# --- Validation ----------------------------------------------------------------------------------


def parse(data: Mapping[str, Any], catalog: Mapping[str, ModelSpec] | None = None
          ) -> tuple[CreateVideoRequest | None, list[Problem]]:
    """Build a request from plain data and validate it; problems name each field."""
    if not isinstance(data, Mapping):
        return None, [Problem("request", "must be a JSON object")]
    try:
        request = CreateVideoRequest.model_validate(dict(data))
    except ValidationError as error:
        return None, _in_the_models_words(problems_from(error), data, catalog)
    return request, validate(request, catalog)


def _in_the_models_words(problems: list[Problem], data: Mapping[str, Any],
                         catalog: Mapping[str, ModelSpec] | None) -> list[Problem]:
    """A prompt over the API's 32,000 characters is refused in the model's own words, as a
    prompt over the model's limit is ("takes 2–3000 characters, got 200000")."""
    spec = get_model(data["model"], catalog) if isinstance(data.get("model"), str) else None
    prompt = data.get("prompt")
    if spec is None or spec.loose or not isinstance(prompt, str):
        return problems
    # Only the prompt is read: a request built without validation and without its model.
    own = _check_prompt(spec, CreateVideoRequest.model_construct(  # type: ignore[call-arg]
        prompt=prompt))
    if not own:
        return problems
    return [*own, *(p for p in problems if p.field != "prompt")]


def problems_from(error: ValidationError) -> list[Problem]:
    return [Problem(_path(item["loc"]) or "request", _message(item)) for item in error.errors()]


def validate(request: CreateVideoRequest, catalog: Mapping[str, ModelSpec] | None = None
             ) -> list[Problem]:
    """Errors (refuse) and warnings (send anyway) for ``request`` against its model."""
    spec = get_model(request.model, catalog)
    problems = list(_check_media_values(request))
    if spec is None:
        known = "; see the model table or add it in VIDEOGEN['MODELS']"
        return [Problem("model", f"unknown model {request.model!r}; the provider will decide"
                        + known, "warning"), *_check_prompt_bounds(request), *problems]
    if spec.loose:
        return [*_check_prompt_bounds(request), *problems, *_check_loose_media(spec, request)]
    for check in (_check_prompt, _check_size, _check_seconds, _check_fps, _check_media_fields,
                  _check_required_media, _check_keyframes, _check_extras):
        problems.extend(check(spec, request))
    return problems


def _check_prompt_bounds(request: CreateVideoRequest) -> list[Problem]:
    if request.prompt is not None and not request.prompt.strip():
        return [Problem("prompt", "must not be blank")]
    return []


def _check_prompt(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    prompt = (request.prompt or "").strip()
    low, high = spec.prompt_range
    if not prompt:
        if spec.prompt_required:
            return [Problem("prompt", f"{spec.id} requires a prompt ({low}–{high} characters)")]
        if spec.warn_without_prompt:
            return [Problem("prompt", f"{spec.id}'s table lists a {low}–{high} character "
                            "prompt; sent without one, as the docs allow for Kling", "warning")]
        return []
    if not low <= len(prompt) <= high:
        return [Problem("prompt", f"{spec.id} takes {low}–{high} characters, got {len(prompt)}")]
    return []


def _check_size(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    if spec.uses_resolution:
        return _check_resolution(spec, request)
    problems = []
    if request.resolution or request.ratio:
        problems.append(Problem("resolution", f"{spec.id} takes width and height; resolution "
                                "and ratio are for Wan 2.7 models", "warning"))
    if (request.width is None) != (request.height is None):
        missing = "height" if request.height is None else "width"
        problems.append(Problem(missing, "give width and height together"))
    elif request.width is not None and spec.sizes:
        size = (request.width, request.height)
        if size not in spec.sizes:
            allowed = ", ".join(f"{w}x{h}" for w, h in spec.sizes)
            problems.append(Problem("width", f"{spec.id} supports {_or(allowed)}, got "
                                    f"{request.width}x{request.height}"))
    return problems


def _or(allowed: str) -> str:
    head, sep, tail = allowed.rpartition(", ")
    return f"{head} or {tail}" if sep else allowed


def _check_resolution(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    problems = []
    if request.resolution and request.resolution not in spec.resolutions:
        allowed = _or(", ".join(spec.resolutions))
        problems.append(Problem("resolution", f"{spec.id} supports {allowed}, got "
                                f"{request.resolution}"))
    if request.ratio and request.ratio not in spec.ratios:
        problems.append(Problem("ratio", f"{spec.id} supports {_or(', '.join(spec.ratios))}, got "
                                f"{request.ratio}"))
    if request.width is not None or request.height is not None:
        problems.append(Problem("width", f"{spec.id} takes resolution and ratio; width and "
                                "height are ignored", "warning"))
    return problems


def _check_seconds(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    if request.seconds is None:
        return []
    seconds = int(request.seconds)
    low, high = spec.seconds_range
    if not low <= seconds <= high:
        return [Problem("seconds", f"{spec.id} makes clips of {low}–{high} seconds, got {seconds}")]
    if spec.durations and seconds not in spec.durations:
        listed = "/".join(str(d) for d in spec.durations)
        return [Problem("seconds", f"{spec.id} is documented for {listed} s; {seconds} s may be "
                        "adjusted by the provider", "warning")]
    return []


def _check_fps(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    if request.fps is None or not spec.fps or request.fps in spec.fps:
        return []
    listed = " or ".join(str(f) for f in spec.fps)
    return [Problem("fps", f"{spec.id} is documented at {listed} fps, got {request.fps}",
                    "warning")]


def _check_media_fields(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    media = request.merged_media()
    if media is None:
        return []
    problems = []
    accepted = ", ".join(sorted(spec.media_fields)) or "none"
    for name in media.used_fields():
        if name in spec.warned_media_fields and name not in spec.media_fields:
            problems.append(Problem(f"media.{name}", f"{spec.id}'s table lists no {name} "
                                    f"(lists: {accepted}); sent, as the provider's docs show "
                                    "it, and the provider decides", "warning"))
        elif name not in spec.media_fields:
            problems.append(Problem(f"media.{name}", f"{spec.id} does not accept {name} "
                                    f"(accepts: {accepted})"))
    return problems


def _check_loose_media(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    """An undocumented model: inputs its kind suggests it does not take are sent, with a word."""
    media = request.merged_media()
    return [Problem(f"media.{name}", f"{spec.id} is not documented to take {name}; the "
                    "provider will decide", "warning")
            for name in (media.used_fields() if media else []) if name not in spec.media_fields]


def _check_required_media(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    media = request.merged_media()
    used = set(media.used_fields()) if media else set()
    return [Problem(f"media.{group[0]}", f"{spec.id} needs {' or '.join(group)}")
            for group in spec.required_media if not used & set(group)]


def _check_keyframes(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    media = request.merged_media()
    frames = (media.frame_images if media else None) or []
    if not frames or "frame_images" not in spec.media_fields:
        return []
    allowed = " and ".join(k for k in media_values.KEYFRAMES if k in spec.keyframes)
    # The docs: "one = first frame, two = first and last, more = frame required per image";
    # so only beyond two may one sit between the first and the last.
    numbered = (_takes_numbered_keyframes(spec) and len(frames) > 2
                and all(f.frame is not None for f in frames))
    if len(frames) > len(spec.keyframes) and not numbered:
        more = "; more need a frame number each" if _takes_numbered_keyframes(spec) else ""
        return [Problem("media.frame_images", f"{spec.id} takes at most {len(spec.keyframes)} "
                        f"keyframe image(s) ({allowed}), got {len(frames)}{more}")]
    problems = []
    last_frame = _last_frame_number(spec, request)
    for index, frame in enumerate(frames):
        position = media_values.keyframe_position(frame.frame, index, len(frames), last_frame)
        field = f"media.frame_images[{index}].frame"
        if position == "middle" and numbered:
            # The spec's own example numbers one between the first and the last (0, 48, "last").
            problems.append(Problem(field, f"{spec.id}'s table lists keyframes at {allowed} "
                                    f"only; frame {frame.frame!r} is sent, as the provider's "
                                    "docs allow numbered keyframes", "warning"))
        elif position not in spec.keyframes:
            problems.append(Problem(field, f"{spec.id} supports keyframes at {allowed} only, "
                                    f"got {frame.frame!r}"))
    return problems


def _takes_numbered_keyframes(spec: ModelSpec) -> bool:
    """Models with a first and a last keyframe may be given numbered ones in between; a
    first-frame-only model has no second anchor, and the docs never show one."""
    return set(media_values.KEYFRAMES) <= spec.keyframes


def _last_frame_number(spec: ModelSpec, request: CreateVideoRequest) -> float | None:
    seconds = int(request.seconds) if request.seconds else spec.default_seconds
    fps = request.fps or spec.default_fps
    return seconds * fps if seconds and fps else None


def _check_extras(spec: ModelSpec, request: CreateVideoRequest) -> list[Problem]:
    problems = []
    if spec.negative_prompt_max is not None and request.negative_prompt and \
            len(request.negative_prompt) > spec.negative_prompt_max:
        problems.append(Problem("negative_prompt", f"{spec.id} takes at most "
                                f"{spec.negative_prompt_max} characters, got "
                                f"{len(request.negative_prompt)}"))
    if spec.seed_max is not None and request.seed is not None and request.seed > spec.seed_max:
        problems.append(Problem("seed", f"{spec.id} takes seeds 0–{spec.seed_max}, got "
                                f"{request.seed}"))
    if request.guidance_scale is not None and request.guidance_scale > 12:
        problems.append(Problem("guidance_scale", "values above 12 cause artifacts; 6–10 is "
                                "recommended", "warning"))
    if request.generate_audio and not spec.generate_audio:
        problems.append(Problem("generate_audio", f"{spec.id} is not documented to generate "
                                "audio", "warning"))
    return problems


# --- Media values: images, URLs, audio -----------------------------------------------------------

def _check_media_values(request: CreateVideoRequest) -> Iterable[Problem]:
    media = request.merged_media()
    if media is None:
        return
    for index, frame in enumerate(media.frame_images or []):
        yield from _check_image(f"media.frame_images[{index}].input_image", frame.input_image)
    for index, url in enumerate(media.reference_images or []):
        yield from _check_url(f"media.reference_images[{index}]", url)
    for name in ("frame_videos", "reference_videos"):
        for index, item in enumerate(getattr(media, name) or []):
            yield from _check_url(f"media.{name}[{index}].video", item.video)
    if media.source_video is not None:
        source = media.source_video
        yield from _check_url("media.source_video",
                              source if isinstance(source, str) else source.video)
    for index, item in enumerate(media.audio_inputs or []):
        yield from _check_audio(f"media.audio_inputs[{index}]",
                                item if isinstance(item, str) else item.audio)


def _check_url(field: str, value: str) -> Iterable[Problem]:
    if len(value) > MAX_URL_LENGTH:
        yield Problem(field, f"URL longer than {MAX_URL_LENGTH} characters")
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # "https://[::1", "http://[x]/": urlsplit refuses them
        yield Problem(field, "not a valid URL")
        return
    if parts.scheme not in ("http", "https"):
        yield Problem(field, f"must be an http or https URL, got scheme {parts.scheme!r}"
                      if parts.scheme else "must be an http or https URL")
    elif not host:
        yield Problem(field, "URL has no host")


def _check_audio(field: str, value: str) -> Iterable[Problem]:
    problems = list(_check_url(field, value))
    yield from problems
    path = urlsplit(value).path.lower()
    if not problems and "." in path.rsplit("/", 1)[-1] and not path.endswith(AUDIO_EXTENSIONS):
        yield Problem(field, "audio inputs must be WAV or MP3 (3–30 s, ≤ 15 MB)", "warning")


def _check_image(field: str, value: str) -> Iterable[Problem]:
    if media_values.looks_like_url(value):
        if value.startswith("data:"):
            yield Problem(field, "send raw base64 without the 'data:…;base64,' prefix, or a URL")
        else:
            yield from _check_url(field, value)
        return
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        yield Problem(field, f"image larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        return
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        yield Problem(field, "must be an http(s) URL or valid base64 image data")
        return
    if not media_values.image_kind(data[:16]):
        yield Problem(field, "image must be PNG, JPEG or WEBP")


# Names pydantic adds to a location for the branch of a union; meaningless to people.
_UNION_BRANCHES = {"str", "int", "float", "bool", "FrameImage", "VideoInput", "AudioInput"}


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _UNION_BRANCHES or "[" in str(part) or str(part).startswith("function-"):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(item: Mapping[str, Any]) -> str:
    message = str(item["msg"])
    if item["type"] == "extra_forbidden":
        return "unknown field"
    return message.removeprefix("Value error, ")


def _first_error(error: ValidationError) -> str:
    item = error.errors()[0]
    return f"{_path(item['loc'])}: {_message(item)}"
