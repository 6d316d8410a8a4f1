"""The widgets of the staff form, and what they show: thumbnails of images (URLs or base64)
with their labels, the model chooser with the model's hint line and the catalog as JSON for
the form's script, and the script's translated words.

Images on other hosts load only when staff ask (*Show preview*): the host would learn who
looks at the job, and when.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from videogen import catalog
from videogen.media import data_uri, decoded_size
from videogen.media import is_http_url as is_url

MAX_IMAGE_BYTES = catalog.MAX_IMAGE_BYTES
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
#: Media fields in people's words, for the hint line and for the catalog's messages.
MEDIA_LABELS = {
    "frame_images": _("keyframes"), "reference_images": _("reference images"),
    "frame_videos": _("clips to continue"), "reference_videos": _("reference videos"),
    "source_video": _("a video to edit"), "audio_inputs": _("audio"),
}
_MEDIA_WORD = re.compile(r"\b(" + "|".join(MEDIA_LABELS) + r")\b")


# --- Images -------------------------------------------------------------------------------------


def thumbnail_src(value: str) -> str:
    """Something an ``<img src>`` can show: the URL, or a data: URI of base64 image data."""
    return value if is_url(value) else data_uri(value)


def is_own(url: str, base_url: str = "") -> bool:
    """Whether an image is on this site (or base64), so a thumbnail may load at once. Any other
    host is only asked for the image when staff press *Show preview*: it would learn who looks
    at the job, and when."""
    if not is_url(url):
        return True
    origins = {_origin(absolute("/", base_url)), _origin(base_url)} - {""}
    return _origin(url) in origins


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def previews(values: Iterable[str], base_url: str = "") -> list[dict[str, Any]]:
    """What ``previews.html`` shows for images (URLs or base64): src, label, own."""
    items = []
    for value in values:
        src = thumbnail_src(value)
        if src:
            items.append({"src": src, "own": is_own(src, base_url),
                          "label": describe_image(value) if is_url(value) else ""})
    return items


def describe_image(value: str) -> str:
    """A short label: "PNG image, 120.5 KB" or the URL's host and file name."""
    if is_url(value):
        parts = urlsplit(value)
        return f"{parts.hostname}…/{posixpath.basename(parts.path)}"
    src = thumbnail_src(value)
    kind = src[len("data:image/"):src.find(";")].upper() if src else "?"
    size = decoded_size(value)
    return _("%(kind)s image, %(size)s") % {"kind": kind, "size": filesizeformat(size)}


@dataclass(frozen=True)
class CurrentImage:
    """A stored base64 keyframe, as the file widget's initial value (it needs ``.url``)."""

    value: str

    @property
    def url(self) -> str:
        return thumbnail_src(self.value)

    def __str__(self) -> str:
        return str(describe_image(self.value))


def absolute(url: str, base_url: str) -> str:
    """A storage URL (``/media/…``) made absolute: with ``WEBHOOKS["SITE_URL"]`` when set,
    else with the address the admin was reached at."""
    from videogen.webhooks.events import absolute_url

    url = absolute_url(url)
    return urljoin(base_url, url) if base_url and url.startswith("/") else url


# --- The model chooser's words ----------------------------------------------------------------


def describe_model(spec: catalog.ModelSpec) -> str:
    """The hint under the chooser: what the model takes, in the words of the form."""
    parts = [_durations(spec)]
    if sizes := spec.size_text():
        parts.append(sizes)
    if spec.fps:
        parts.append(gettext("%(fps)s fps") % {"fps": "/".join(str(f) for f in spec.fps)})
    if "frame_images" in spec.media_fields and spec.keyframes:
        parts.append(gettext("first frame") if spec.keyframes == {"first"} else
                     gettext("first and last frame"))
    needed = {name for group in spec.required_media for name in group}
    for group in spec.required_media:
        parts.append(gettext("needs %(inputs)s") % {"inputs": gettext(" or ").join(
            str(MEDIA_LABELS[name]) for name in group)})
    optional = [str(MEDIA_LABELS[name]) for name in catalog.MEDIA_FIELDS
                if name in spec.media_fields and name not in needed and name != "frame_images"]
    if optional:
        parts.append(gettext("takes %(inputs)s") % {"inputs": ", ".join(optional)})
    warned = [str(MEDIA_LABELS[name]) for name in catalog.MEDIA_FIELDS
              if name in spec.warned_media_fields and name not in spec.media_fields]
    if warned:
        parts.append(gettext("%(inputs)s: sent with a warning (in the provider's docs, not its "
                             "table)") % {"inputs": ", ".join(warned)})
    low, high = spec.prompt_range
    parts.append(gettext("prompt %(low)s–%(high)s characters") % {"low": low, "high": high}
                 if spec.prompt_required else
                 gettext("prompt optional (up to %(high)s characters)") % {"high": high})
    if spec.loose:
        parts.append(gettext("not documented by the provider: checked loosely"))
    return " · ".join(parts)


def in_words(message: str, spec: catalog.ModelSpec | None) -> str:
    """A catalog message as the pages say it: the model's label instead of its id, the
    inputs' names instead of the API's keys."""
    if spec and spec.id in message:
        message = message.replace(spec.id, spec.label)
    return _MEDIA_WORD.sub(lambda match: str(MEDIA_LABELS[match[0]]), message)


def _durations(spec: catalog.ModelSpec) -> str:
    if spec.durations:
        return "/".join(gettext("%(n)s s") % {"n": n} for n in spec.durations)
    low, high = spec.seconds_range
    return gettext("%(low)s–%(high)s s") % {"low": low, "high": high}


def catalog_data(specs: Iterable[catalog.ModelSpec]) -> dict[str, dict[str, Any]]:
    """What the form's script needs to narrow choices to one model (no secrets, no prices)."""
    return {spec.id: {
        "summary": describe_model(spec),
        "sizes": [] if spec.uses_resolution else [f"{w}x{h}" for w, h in spec.sizes],
        "durations": list(spec.durations),
        "seconds_range": list(spec.seconds_range),
        "fps": list(spec.fps),
        "resolutions": list(spec.resolutions),
        "ratios": list(spec.ratios),
        "keyframes": sorted(spec.keyframes),
        "media": sorted(spec.media_fields),
        # Shown too: the provider's docs send them, its table does not list them (warned).
        "warned": sorted(spec.warned_media_fields - spec.media_fields),
        "required": [list(group) for group in spec.required_media],
        "prompt_range": list(spec.prompt_range),
        "prompt_required": spec.prompt_required,
        "audio": spec.generate_audio,
        "loose": spec.loose,
    } for spec in specs}


# --- Widgets ------------------------------------------------------------------------------------


class DefaultYesNoSelect(forms.NullBooleanSelect):
    """Yes / No / the model's default (None), rather than Django's "Unknown"."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", _("model default")), ("true", _("Yes")), ("false", _("No"))]


class ModelSelect(forms.Select):
    """The model chooser: grouped options, the chosen model's capability line, and the catalog
    as JSON for the script that narrows the other choices."""

    template_name = "admin/videogen/widgets/model_select.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict:
        context = super().get_context(name, value, attrs)
        specs = catalog.site_catalog()
        chosen = specs.get(value) if isinstance(value, str) else None
        context["widget"].update(
            summary=describe_model(chosen) if chosen else "",
            catalog=catalog_data(specs.values()),
            models=[{"id": s.id, "name": s.label, "summary": describe_model(s)}
                    for s in specs.values()],
            strings=script_strings(),
        )
        return context


def script_strings() -> dict[str, str]:
    """The form script's words, translated here (the admin's JavaScript catalog only carries
    Django's own strings)."""
    return {
        "count": gettext("%(n)s of %(max)s characters"),
        "guidance": gettext("Above 12 the video tends to show artifacts; 6–10 is recommended."),
        "not_image": gettext("%(name)s is not a PNG, JPEG or WEBP image."),
        "too_large": gettext("%(name)s is larger than 10 MB."),
    }


class _ImageInput(forms.FileInput):
    """What both image upload widgets share: the attributes the page's script checks picked
    files by, and the images kept from a try with errors (``kept``: stash token, image)."""

    template_name = "admin/videogen/widgets/image_file_input.html"
    kept: list[tuple[str, CurrentImage]] = []

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"accept": ",".join(IMAGE_TYPES), "data-vg-image": "1",
                          "data-vg-max-bytes": str(MAX_IMAGE_BYTES), **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"].update(kept=self.kept, kept_name=f"{name}-kept")
        return context


class ImageFileInput(_ImageInput, forms.ClearableFileInput):
    """A keyframe upload showing the current image as a thumbnail, and the picked file too."""

    # Lazy, as Django's own label is (its stub says str): rendered in the request's language.
    clear_checkbox_label = _("Remove this image")  # type: ignore[assignment]


class ImageURLInput(forms.URLInput):
    template_name = "admin/videogen/widgets/image_url_input.html"
    #: The admin's address, set by the form: images there are shown at once.
    base_url = ""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "https://…", "data-vg-image-url": "1",
                          **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict:
        context = super().get_context(name, value, attrs)
        shown = previews([str(value)] if value and is_url(str(value)) else [], self.base_url)
        context["widget"].update(previews=shown,
                                 foreign=any(not item["own"] for item in shown))
        return context


class MultipleImageInput(_ImageInput):
    allow_multiple_selected = True


class URLListInput(forms.Textarea):
    """One URL per line; image URLs are shown as thumbnails under it."""

    template_name = "admin/videogen/widgets/url_list.html"
    base_url = ""

    def __init__(self, *, thumbnails: bool = False) -> None:
        super().__init__({"rows": 3, "placeholder": "https://…"})
        self.thumbnails = thumbnails

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict:
        context = super().get_context(name, value, attrs)
        text = context["widget"]["value"] or ""
        urls = [line.strip() for line in text.splitlines() if is_url(line.strip())]
        shown = previews(urls, self.base_url) if self.thumbnails else []
        context["widget"].update(thumbnails=self.thumbnails, previews=shown,
                                 foreign=any(not item["own"] for item in shown))
        return context
