"""The staff form for a draft job.

The model is picked from the site's catalog, grouped by organization; size, duration, fps and
Wan 2.7 resolution/ratio are offered from the catalog's values (a small script narrows them to
the chosen model); keyframes are uploads or URLs; advanced parameters sit in a collapsed
section. The catalog is the authority: the form builds the request the job will send, validates
it with :func:`videogen.catalog.parse`, and reports every problem on the field it concerns,
in the catalog's words ("minimax/hailuo-02 supports 1366x768 or 1920x1080, got 1280x720").
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from videogen import catalog, upload_stash
from videogen.api import encode_image
from videogen.jsondata import JSONFormField, json_problem
from videogen.media import (
    KEYFRAMES,
    item_url,
    other_frames,
    sniff_image,
    stored_keyframes,
)
from videogen.media import is_http_url as is_url
from videogen.models import OutputFormat, VideoJob
from videogen.storage import archive_name, archive_storage
from videogen.widgets import (  # the widgets lived here: importable from here still
    IMAGE_TYPES,
    MEDIA_LABELS,
    CurrentImage,
    DefaultYesNoSelect,
    ImageFileInput,
    ImageURLInput,
    ModelSelect,
    MultipleImageInput,
    URLListInput,
    absolute,
    in_words,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger("videogen.forms")

MAX_IMAGE_BYTES = catalog.MAX_IMAGE_BYTES
# Uploaded references get a real URL only when saved; until then the catalog checks this.
_PLACEHOLDER = "https://upload.invalid/reference-{}"
URL_MEDIA = {  # form field → (media key, shape of one item)
    "frame_video_urls": ("frame_videos", "video"),
    "reference_video_urls": ("reference_videos", "video"),
    "audio_urls": ("audio_inputs", "plain"),
}
#: The form fields each media field is entered in (hidden when the model does not take it).
MEDIA_INPUTS = {
    "frame_images": ("first_frame_file", "first_frame_url", "last_frame_file",
                     "last_frame_url"),
    "reference_images": ("reference_files", "reference_urls"),
    "frame_videos": ("frame_video_urls",), "reference_videos": ("reference_video_urls",),
    "source_video": ("source_video_url",), "audio_inputs": ("audio_urls",),
}


def check_upload(upload: UploadedFile) -> str:
    """The upload's MIME type, after refusing what is too large or not an image. The size
    is checked before anything is read."""
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise forms.ValidationError(
            _("%(name)s is %(size)s; images up to %(max)s are accepted."), code="too_large",
            params={"name": upload.name, "size": filesizeformat(upload.size),
                    "max": filesizeformat(MAX_IMAGE_BYTES)})
    upload.seek(0)
    mime = sniff_image(upload.read(16))
    upload.seek(0)
    if mime is None:
        raise forms.ValidationError(
            _("%(name)s is not a PNG, JPEG or WEBP image."), code="not_an_image",
            params={"name": upload.name})
    return mime


# --- Fields -------------------------------------------------------------------------------------


class MultipleImageField(forms.FileField):
    widget = MultipleImageInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(item, initial) for item in items]


class URLListField(forms.CharField):
    """http(s) URLs, one per line; an error names the line."""

    def __init__(self, *, thumbnails: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=URLListInput(thumbnails=thumbnails), **kwargs)

    # A list, not CharField's str: the field's value is the URLs, one per line.
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        check = URLValidator(schemes=["http", "https"])
        for number, url in enumerate(value, start=1):
            try:
                check(url)
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("Line %(n)d is not an http(s) URL: %(url)s"), code="invalid",
                    params={"n": number, "url": url[:100]}) from None


# --- The catalog, for choices and the script ----------------------------------------------------


def model_choices(current: str | None = None) -> list[Any]:
    groups = catalog.grouped()
    choices: list[Any] = [("", _("— choose a model —"))]
    choices += [(specs[0].organization_name or _("other"), [(s.id, s.label) for s in specs])
                for specs in groups.values()]
    if current and current not in catalog.site_catalog():
        # A job made from code with a model this site does not list: keep it choosable.
        choices.append((_("other"), [(current, current)]))
    return choices


def size_choices(current: tuple[int | None, int | None] = (None, None)
                 ) -> list[tuple[str, StrOrPromise]]:
    sizes = {size for spec in catalog.site_catalog().values() for size in spec.sizes}
    if current[0] and current[1]:
        sizes.add((current[0], current[1]))
    ordered = sorted(sizes, key=lambda wh: (-wh[0] * wh[1], -wh[0]))
    return [("", _("model default")), *((f"{w}x{h}", f"{w} × {h}") for w, h in ordered)]


def seconds_choices(current: str = "") -> list[tuple[str, StrOrPromise]]:
    high = max((spec.seconds_range[1] for spec in catalog.site_catalog().values()), default=10)
    values = {str(n) for n in range(1, high + 1)} | ({current} if current else set())
    return [("", _("model default")),
            *((v, _("%(n)s s") % {"n": v}) for v in sorted(values, key=int))]


def fps_choices(current: int | None = None) -> list[tuple[Any, StrOrPromise]]:
    values = {fps for spec in catalog.site_catalog().values() for fps in spec.fps}
    values |= {current} if current else set()
    return [("", _("model default")), *((v, str(v)) for v in sorted(values))]


# --- The form -----------------------------------------------------------------------------------

#: The form's fields by section, for the admin's fieldsets (a tuple is one line).
MAIN_FIELDS = ("model", "prompt", "size", ("resolution", "ratio"), ("seconds", "fps"))
IMAGE_FIELDS = (("first_frame_file", "first_frame_url"), ("last_frame_file", "last_frame_url"),
                ("reference_files", "reference_urls"))
ADVANCED_FIELDS = ("steps", "guidance_scale", "seed", "negative_prompt",
                   ("output_format", "output_quality"), "generate_audio", "frame_video_urls",
                   "reference_video_urls", "source_video_url", "audio_urls", "metadata")


class JobForm(forms.ModelForm):
    model = forms.ChoiceField(label=_("Model"), widget=ModelSelect)
    size = forms.ChoiceField(label=_("Size"), required=False,
                             help_text=_("Width × height in pixels."))
    seconds = forms.ChoiceField(label=_("Duration"), required=False)
    fps = forms.TypedChoiceField(label=_("Frames per second"), required=False, coerce=int,
                                 empty_value=None)
    resolution = forms.ChoiceField(
        label=_("Resolution"), required=False,
        choices=[("", _("model default")), *((r, r) for r in catalog.WAN_RESOLUTIONS)],
        help_text=_("Wan 2.7 models take a resolution and a ratio instead of a size."))
    ratio = forms.ChoiceField(
        label=_("Aspect ratio"), required=False,
        choices=[("", _("model default")), *((r, r) for r in catalog.WAN_RATIOS)])

    first_frame_file = forms.FileField(
        label=_("First frame (upload)"), required=False, widget=ImageFileInput,
        help_text=_("PNG, JPEG or WEBP, up to 10 MB. The video starts from this image."))
    first_frame_url = forms.URLField(
        label=_("First frame (URL)"), required=False, widget=ImageURLInput,
        assume_scheme="https", help_text=_("Or the address of an image."))
    last_frame_file = forms.FileField(
        label=_("Last frame (upload)"), required=False, widget=ImageFileInput,
        help_text=_("PNG, JPEG or WEBP, up to 10 MB. The video ends on this image."))
    last_frame_url = forms.URLField(
        label=_("Last frame (URL)"), required=False, widget=ImageURLInput,
        assume_scheme="https")
    reference_files = MultipleImageField(
        label=_("Reference images (upload)"), required=False,
        help_text=_("For reference-to-video and video edit models. Uploads are stored with the "
                    "job and sent to the provider as links to this site."))
    reference_urls = URLListField(label=_("Reference images (URLs)"), thumbnails=True,
                                  help_text=_("One URL per line."))

    steps = forms.IntegerField(label=_("Steps"), required=False, min_value=10, max_value=50,
                               help_text=_("10–50. More steps, more detail, slower."))
    guidance_scale = forms.FloatField(
        label=_("Guidance scale"), required=False, min_value=0, max_value=100,
        widget=forms.NumberInput(attrs={"step": "0.5", "data-vg-guidance": "1"}),
        help_text=_("How closely to follow the prompt: 6–10 is recommended; above 12 causes "
                    "artifacts."))
    seed = forms.IntegerField(label=_("Seed"), required=False, min_value=0,
                              max_value=2**63 - 1,
                              help_text=_("The same seed and request give the same video."))
    output_format = forms.ChoiceField(
        label=_("Output format"), required=False,
        choices=[("", _("model default (MP4)")), *OutputFormat.choices])
    output_quality = forms.IntegerField(label=_("Output quality"), required=False,
                                        min_value=0, max_value=100, help_text=_("0–100."))
    generate_audio = forms.NullBooleanField(label=_("Generate audio"), required=False,
                                            widget=DefaultYesNoSelect)
    frame_video_urls = URLListField(
        label=_("Clips to continue (URLs)"),
        help_text=_("Wan 2.7 image-to-video: video URLs, one per line."))
    reference_video_urls = URLListField(
        label=_("Reference videos (URLs)"),
        help_text=_("Wan 2.7 reference-to-video: video URLs, one per line."))
    source_video_url = forms.URLField(
        label=_("Video to edit (URL)"), required=False, assume_scheme="https",
        help_text=_("Wan 2.7 video edit."))
    audio_urls = URLListField(
        label=_("Audio inputs (URLs)"),
        help_text=_("Wan 2.7: WAV or MP3, 3–30 s, up to 15 MB; one URL per line."))

    #: Set by the admin to make uploaded references' URLs absolute ("https://site/").
    base_url = ""

    class Meta:
        model = VideoJob
        fields = ["model", "prompt", "seconds", "fps", "resolution", "ratio", "steps",
                  "guidance_scale", "seed", "negative_prompt", "output_format",
                  "output_quality", "generate_audio", "metadata"]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 12, "class": "vg-prompt",
                                            "data-vg-prompt": "1"}),
            "negative_prompt": forms.Textarea(attrs={"rows": 2}),
            "metadata": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"metadata": JSONFormField}
        help_texts = {
            "prompt": _("What the video shows. Each model has its own length limit."),
            "negative_prompt": _("What to avoid (Wan 2.7: up to 500 characters)."),
            "metadata": _("Free JSON kept with the job and sent in webhooks."),
        }

    class Media:
        css = {"all": ["videogen/admin/videogen.css"]}
        js = ["videogen/admin/job_form.js", "videogen/admin/preview.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        job: VideoJob = self.instance
        self.warnings: list[catalog.Problem] = []
        self.spec: catalog.ModelSpec | None = None
        self._frame_fields: list[str] = []
        # Keyframe field → (base64, the stash token it came from, if it did); the same for
        # reference images, in order.
        self._uploads: dict[str, tuple[str, str | None]] = {}
        self._references: list[tuple[UploadedFile, str | None]] = []
        self._choice_field("model").choices = model_choices(job.model or None)
        self._choice_field("size").choices = size_choices((job.width, job.height))
        self._choice_field("seconds").choices = seconds_choices(job.seconds or "")
        self._choice_field("fps").choices = fps_choices(job.fps)
        for name, value in self._initial_from_media(job.media or {}).items():
            self.initial.setdefault(name, value)
        if job.width and job.height:
            self.initial.setdefault("size", f"{job.width}x{job.height}")
        for bound in self.fields.values():
            if isinstance(bound.widget, ImageURLInput | URLListInput):
                bound.widget.base_url = self.base_url

    def _choice_field(self, name: str) -> forms.ChoiceField:
        # Declared above as a ChoiceField; ``self.fields`` is typed as plain Fields.
        return cast(forms.ChoiceField, self.fields[name])

    def _initial_from_media(self, media: Mapping[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for position, value in stored_keyframes(media).items():
            if is_url(value):
                initial[f"{position}_frame_url"] = value
            else:
                initial[f"{position}_frame_file"] = CurrentImage(value)
        initial["reference_urls"] = list(media.get("reference_images") or [])
        for name, (key, _shape) in URL_MEDIA.items():
            initial[name] = [item_url(item) for item in media.get(key) or []]
        source = media.get("source_video")
        initial["source_video_url"] = item_url(source) if source else ""
        return initial

    # --- Field cleaning -------------------------------------------------------------------

    def clean_first_frame_file(self) -> Any:
        return self._clean_keyframe("first_frame_file")

    def clean_last_frame_file(self) -> Any:
        return self._clean_keyframe("last_frame_file")

    def _clean_keyframe(self, name: str) -> Any:
        """base64 for a new upload (or one kept from the last try), a CurrentImage kept,
        False when removed, None if none."""
        value = self.cleaned_data.get(name)
        if isinstance(value, UploadedFile):
            check_upload(value)
            self._uploads[name] = (encode_image(value), None)
            return self._uploads[name][0]
        tokens = self._kept_tokens(name)
        if value is None and tokens:
            encoded = base64.b64encode(self._kept_image(tokens[0])).decode("ascii")
            self._uploads[name] = (encoded, tokens[0])
            return encoded
        return value

    def _kept_image(self, token: str) -> bytes:
        data = upload_stash.load(token)
        if not data or len(data) > MAX_IMAGE_BYTES or sniff_image(data[:16]) is None:
            raise forms.ValidationError(
                _("The image kept from your last try is gone; choose the file again."),
                code="kept_upload_gone")
        return data

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and self.errors:  # full_clean() has set them: no second run
            self._keep_uploads()

    def _keep_uploads(self) -> None:
        """The form comes back with errors: keep its new images for the next try."""
        for name, (encoded, token) in self._uploads.items():
            token = self._stashed(token, lambda e=encoded: base64.b64decode(e))
            if token:
                self.fields[name].widget.kept = [(token, CurrentImage(encoded))]
        kept = []
        for upload, token in self._references:
            data = _read(upload)
            token = self._stashed(token, lambda d=data: d)
            if token:
                kept.append((token, CurrentImage(base64.b64encode(data).decode())))
        self.fields["reference_files"].widget.kept = kept

    @staticmethod
    def _stashed(token: str | None, data: Any) -> str | None:
        """``token`` when the image is stashed already, else a new one for ``data()`` (None
        if storage fails: the page still shows the errors, the image must be chosen again)."""
        if token:
            return token
        try:
            return upload_stash.stash(data())
        except Exception:
            logger.warning("could not keep an upload for the next try", exc_info=True)
            return None

    def clean_reference_files(self) -> list[UploadedFile]:
        """New uploads, then the ones kept from the last try whose box is still ticked."""
        uploads = list(self.cleaned_data.get("reference_files") or [])
        for upload in uploads:
            check_upload(upload)
        self._references = [(upload, None) for upload in uploads]
        for number, token in enumerate(self._kept_tokens("reference_files"), start=1):
            data = self._kept_image(token)
            kept = SimpleUploadedFile(f"kept-reference-{number}", data,
                                      content_type=sniff_image(data[:16]) or "")
            self._references.append((kept, token))
            uploads.append(kept)
        return uploads

    def _kept_tokens(self, name: str) -> list[str]:
        key = self.add_prefix(f"{name}-kept")
        values = self.data.getlist(key) if hasattr(self.data, "getlist") else \
            [self.data.get(key)]
        return [str(value) for value in values if value]

    def clean_metadata(self) -> dict[str, Any]:
        value = self.cleaned_data.get("metadata")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Give a JSON object, like {"campaign": "spring"}.'))
        why = json_problem(value)
        if why:  # NaN or \u0000 would be a database error (a 500) on PostgreSQL
            raise forms.ValidationError(why)
        return value

    def clean_size(self) -> tuple[int, int] | None:
        value = self.cleaned_data.get("size")
        if not value:
            return None
        width, _sep, height = value.partition("x")
        return int(width), int(height)

    # --- The request, validated by the catalog ------------------------------------------------

    def clean(self) -> dict[str, Any]:
        # A ModelForm's clean() returns its cleaned_data, never None.
        data = cast("dict[str, Any]", super().clean())
        if "model" not in data:
            return data
        frames = self._keyframes(data)
        self.spec = catalog.get_model(data["model"])
        _request, problems = catalog.parse(self.request_values(data, frames))
        for problem in problems:
            if self._not_taken(problem):
                self._report(catalog.Problem(problem.field, gettext(
                    "%(model)s does not take %(input)s.") % {
                        "model": self.spec.label if self.spec else "",
                        "input": MEDIA_LABELS[problem.field.split("[")[0][len("media."):]]}))
            elif problem.is_error:
                self._report(problem)
            else:
                self.warnings.append(problem)
        return data

    def _not_taken(self, problem: catalog.Problem) -> bool:
        """An input an undocumented model is not known to take. The API sends it with a
        warning; the form hides that input, so one that arrives anyway is refused."""
        media = problem.field.split("[")[0].removeprefix("media.")
        return bool(self.spec and self.spec.loose and problem.field.startswith("media.")
                    and media in MEDIA_LABELS and media not in self.spec.media_fields
                    and media not in self.spec.warned_media_fields)

    def in_words(self, message: str) -> str:
        return in_words(message, self.spec)

    def label_of(self, problem: catalog.Problem) -> str:
        """The label of the form field a problem is about ("Guidance scale")."""
        name = self._field_for(problem.field)
        return str(self.fields[name].label) if name in self.fields else problem.field

    def warning_texts(self) -> list[str]:
        """The warnings (saved anyway), for messages: "Generate audio: … (saved anyway)"."""
        return [gettext("%(field)s: %(message)s (saved anyway)") % {
            "field": self.label_of(problem), "message": self.in_words(problem.message)}
            for problem in self.warnings]

    def _keyframes(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The keyframe list, and which form field each one came from (for errors)."""
        frames, self._frame_fields = [], []
        for position in KEYFRAMES:
            value, source = self._keyframe(position, data)
            if value:
                frames.append({"input_image": value, "frame": position})
                self._frame_fields.append(source)
        kept = other_frames(self.instance.media or {})
        frames.extend(kept)
        self._frame_fields.extend("first_frame_file" for _ in kept)
        return frames

    def _keyframe(self, position: str, data: dict[str, Any]) -> tuple[str | None, str]:
        file_name, url_name = f"{position}_frame_file", f"{position}_frame_url"
        upload, url = data.get(file_name), data.get(url_name) or ""
        url_typed = url and url != self[url_name].initial
        if isinstance(upload, str):  # a new upload, encoded
            if url_typed:
                self.add_error(url_name, _("Give a file or a URL, not both."))
            return upload, file_name
        if url:
            return url, url_name
        if isinstance(upload, CurrentImage):
            return upload.value, file_name
        return None, file_name

    def request_values(self, data: dict[str, Any], frames: list[dict[str, Any]]
                       ) -> dict[str, Any]:
        """The create request this form describes, as :func:`catalog.parse` takes it."""
        width, height = data.get("size") or (None, None)
        values = {
            "model": data.get("model"), "prompt": data.get("prompt"),
            "negative_prompt": data.get("negative_prompt"), "width": width, "height": height,
            "seconds": data.get("seconds"), "fps": data.get("fps"), "steps": data.get("steps"),
            "guidance_scale": data.get("guidance_scale"), "seed": data.get("seed"),
            "output_format": data.get("output_format"),
            "output_quality": data.get("output_quality"),
            "generate_audio": data.get("generate_audio"),
            "resolution": data.get("resolution"), "ratio": data.get("ratio"),
            "media": self.build_media(data, frames, placeholders=True),
        }
        return {key: value for key, value in values.items() if value not in (None, "", {})}

    def build_media(self, data: dict[str, Any], frames: list[dict[str, Any]], *,
                    placeholders: bool) -> dict[str, Any]:
        references = list(data.get("reference_urls") or [])
        if placeholders:
            references += [_PLACEHOLDER.format(n) for n, _f in
                           enumerate(data.get("reference_files") or [], start=1)]
        media: dict[str, Any] = {"frame_images": frames, "reference_images": references}
        for name, (key, shape) in URL_MEDIA.items():
            urls = data.get(name) or []
            media[key] = [{"video": u} for u in urls] if shape == "video" else list(urls)
        media["source_video"] = data.get("source_video_url") or None
        return {key: value for key, value in media.items() if value}

    def _report(self, problem: catalog.Problem) -> None:
        name = self._field_for(problem.field)
        message = self.in_words(problem.message)
        if name and name in self.fields and name not in self.errors:
            self.add_error(name, message)
        elif not name or name not in self.errors:
            self.add_error(None, f"{self.label_of(problem)}: {message}")

    def _field_for(self, problem_field: str) -> str | None:
        """The form field a catalog problem is about (``width`` → ``size``...)."""
        if problem_field.startswith("media.frame_images["):
            index = int(problem_field[len("media.frame_images["):].split("]")[0])
            return self._frame_fields[index] if index < len(self._frame_fields) else None
        fixed = {"width": "size", "height": "size", "media.frame_images": "first_frame_file",
                 "media.reference_images": "reference_urls",
                 "media.frame_videos": "frame_video_urls",
                 "media.reference_videos": "reference_video_urls",
                 "media.source_video": "source_video_url", "media.audio_inputs": "audio_urls"}
        head = problem_field.split("[")[0]
        if head == "media.frame_images" and self._frame_fields:
            return self._frame_fields[0]  # the field the keyframes were given in
        if head == "media.reference_images" and "[" in problem_field:
            return self._reference_field(problem_field)
        return fixed.get(head) or (head if head in self.fields else None)

    def _reference_field(self, problem_field: str) -> str:
        index = int(problem_field.split("[")[1].split("]")[0])
        typed = len(self.cleaned_data.get("reference_urls") or [])
        return "reference_urls" if index < typed else "reference_files"

    # --- Saving -------------------------------------------------------------------------------

    def save(self, commit: bool = True) -> VideoJob:
        job = super().save(commit=False)
        data = self.cleaned_data
        job.width, job.height = data.get("size") or (None, None)
        job.seconds = data.get("seconds") or ""
        media = self.build_media(data, self._keyframes(data), placeholders=False)
        uploaded = self._store_references(job, data.get("reference_files") or [])
        if uploaded:
            media["reference_images"] = [*media.get("reference_images", []), *uploaded]
        job.media = media
        if commit:
            job.save()
        for _item, token in [*self._uploads.values(), *self._references]:
            if token:
                upload_stash.discard(token)  # stored with the job now
        return job

    def _store_references(self, job: VideoJob, uploads: list[UploadedFile]) -> list[str]:
        """Save uploaded reference images next to the job's video; the provider fetches them
        by URL, so the URL must be absolute."""
        storage = archive_storage()
        urls = []
        for number, upload in enumerate(uploads, start=1):
            ext = IMAGE_TYPES[check_upload(upload)]
            name = storage.save(archive_name(job, ext, suffix=f"-reference-{number}"), upload)
            urls.append(absolute(storage.url(name), self.base_url))
        return urls


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data
