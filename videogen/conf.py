"""The ``VIDEOGEN`` settings dict, validated into one typed object.

Host sites write ``VIDEOGEN = {"API_KEY": ..., "POLL": {"CONCURRENCY": 32}}`` in their settings.
The dict is read at call time (so ``override_settings`` works) and validated with pydantic; the
result is cached until Django's ``setting_changed`` signal says ``VIDEOGEN`` changed.
Unknown keys and wrong types raise ``InvalidSettings`` (an ``ImproperlyConfigured``) naming
the key, with the nearest known key for a misspelt one; check ``videogen.E008`` reports them
without stopping start-up. The values given are
never echoed back in errors, so a misplaced secret cannot leak through a start-up traceback.
"""

from __future__ import annotations

import difflib
import os
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from videogen import catalog
from videogen.catalog import ModelSpec
from videogen.exceptions import NotConfigured, VideogenError
from videogen.webhooks.headers import header_problem
from videogen.webhooks.signing import check_secret

DEFAULT_BASE_URL = "https://api.together.ai"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or not urlsplit(value).hostname:
        raise ValueError("must start with http:// or https:// and name a host")
    return value


class _Section(BaseModel):
    """Keys are written upper-case in settings; attributes are lower-case in code."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=str.upper,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


class PollSettings(_Section):
    concurrency: int = Field(48, ge=1, le=1000, description="Simultaneous GETs per poll loop.")
    loop_seconds: float = Field(
        45.0, gt=0, description="How long one scheduled poll task keeps polling before it returns."
    )
    batch_size: int = Field(200, ge=1, le=10_000, description="Jobs claimed per round.")
    min_interval: float = Field(5.0, gt=0, description="Shortest gap between two polls of a job.")
    max_interval: float = Field(300.0, gt=0, description="Longest gap between two polls of a job.")
    first_poll_fraction: float = Field(
        0.5, gt=0, le=1, description="First poll at this fraction of the typical duration."
    )
    time_scale: float = Field(
        1.0, ge=0, le=10,
        description="How long the provider takes against the catalog's typical times: 1 for "
                    "the real API, the sandbox's time_scale when it stands in for it.",
    )
    max_age: float = Field(
        3 * 3600.0, gt=0, description="Seconds after submission before a job fails as timed out."
    )
    claim_seconds: float = Field(
        60.0, gt=0, description="How long a claimed job stays invisible to other pollers."
    )


class ArchiveSettings(_Section):
    download_retries: int = Field(3, ge=0, le=20)
    chunk_size: int = Field(1024 * 1024, ge=4096)
    spool_max_memory: int = Field(
        8 * 1024 * 1024, ge=0, description="Bytes kept in RAM before the download spools to disk."
    )
    max_bytes: int = Field(4 * 1024**3, ge=1, description="Refuse downloads larger than this.")
    download_timeout: float = Field(
        600, gt=0, le=7 * 86400,
        description="Seconds one archive may spend downloading, retries included.")


class EndpointSettings(_Section):
    """An endpoint declared in settings (kept in the database under ``key``)."""

    key: str = Field(min_length=1, max_length=100)
    url: str
    secret: SecretStr | None = Field(None, description="whsec_…; generated when omitted.")
    events: list[str] = Field(default_factory=list, description="Empty means all.")
    description: str = ""
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("headers")
    @classmethod
    def _sendable(cls, value: dict[str, str]) -> dict[str, str]:
        why = header_problem(value)
        if why:
            raise ValueError(why)
        return value

    @field_validator("secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # A secret that cannot sign would fail every delivery; say so at start-up instead.
        if value is not None:
            check_secret(value.get_secret_value())
        return value


#: ``WEBHOOKS["RETRY_SCHEDULE"]``'s default (typed: the literals alone would read as ints).
RETRY_SCHEDULE: list[float] = [5, 300, 1800, 7200, 18000, 36000]


class WebhookSettings(_Section):
    endpoints: list[EndpointSettings] = Field(default_factory=list)
    site_url: str | None = Field(
        None, description="Makes relative storage URLs (/media/…) absolute in payloads.")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts or CIDR ranges exempt from the SSRF guard."
    )
    timeout: float = Field(
        10.0, gt=0, le=300,
        description="Seconds one attempt may take in all: connect, send, answer, excerpt.")
    max_consecutive_failures: int = Field(20, ge=1)
    retry_schedule: list[float] = Field(
        default_factory=lambda: list(RETRY_SCHEDULE),
        description="Seconds to wait before each retry of one delivery.",
    )
    response_excerpt_bytes: int = Field(
        2048, ge=0, le=1024 * 1024,
        description="Bytes of a receiver's answer read and kept in the delivery log; no more "
                    "is read.")

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class BudgetSettings(_Section):
    daily: Decimal | None = Field(None, ge=0)
    monthly: Decimal | None = Field(None, ge=0)


class VideogenSettings(_Section):
    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: float = Field(60.0, gt=0, description="Read/write timeout of provider calls.")
    connect_timeout: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    max_response_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest provider answer (not a download) read; "
        "a larger one is a failed call, never held in memory.")
    submit_connect_retry: float = Field(
        120.0, ge=0, le=3600,
        description="Seconds a create that could not connect (so never reached the provider) "
                    "keeps being sent again, with backoff, before the job fails.",
    )
    storage: str = Field("default", min_length=1, description="STORAGES alias for archives.")
    upload_to: str = Field(
        "videogen/%Y/%m/{id}.{ext}",
        description="strftime pattern plus {id}, {model} and {ext} for archived files.",
    )
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Catalog additions and overrides, keyed by model id."
    )
    poll: PollSettings = Field(default_factory=PollSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)

    @field_validator("api_key", mode="before")
    @classmethod
    def _sendable_key(cls, value: Any) -> Any:
        # A key read from a file or a secret store often ends with a newline: drop it. A key
        # that still cannot go in a header would fail later, with the key in the traceback.
        if not isinstance(value, str):
            return value
        value = value.strip()
        if value and not (value.isascii() and value.isprintable() and " " not in value):
            raise ValueError("must be printable ASCII without spaces")
        return value or None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("upload_to")
    @classmethod
    def _has_id(cls, value: str) -> str:
        if "{id}" not in value:
            raise ValueError("must contain {id} so that every job gets its own file name")
        return value

    def api_key_value(self) -> str | None:
        """The key itself, for the one place that sends it (the client's auth header)."""
        return self.api_key.get_secret_value() if self.api_key else None


def _with_environment(raw: dict[str, Any]) -> dict[str, Any]:
    values = dict(raw)
    if "API_KEY" not in values and os.environ.get("TOGETHER_API_KEY"):
        values["API_KEY"] = os.environ["TOGETHER_API_KEY"]
    if "BASE_URL" not in values and os.environ.get("TOGETHER_BASE_URL"):
        values["BASE_URL"] = os.environ["TOGETHER_BASE_URL"]
    return values


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys the section at ``loc`` accepts (``loc`` as pydantic gives it, upper-case)."""
    section: Any = VideogenSettings
    for part in loc:
        if isinstance(part, int):
            continue
        fields = section.model_fields
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return []
        # A list of sections (WEBHOOKS.ENDPOINTS) holds its section type as the argument.
        section = next(iter(typing.get_args(field.annotation)), field.annotation)
        if not (isinstance(section, type) and issubclass(section, BaseModel)):
            return []
    return [f.alias for f in section.model_fields.values() if f.alias]


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """``(where, what)`` per bad key; an unknown key gets the nearest known one suggested."""
    found = []
    for problem in error.errors():
        loc = tuple(problem["loc"])
        where = "VIDEOGEN" + "".join(f"[{part!r}]" for part in loc)
        what = problem["msg"]
        if problem["type"] == "extra_forbidden":
            near = difflib.get_close_matches(str(loc[-1]).upper(), _keys_at(loc[:-1]), n=1)
            what += f"; did you mean {near[0]}?" if near else ""
        found.append((where, what))
    return found


def _describe(error: ValidationError) -> str:
    lines = [f"{where}: {what}" for where, what in problems(error)]
    return "Invalid VIDEOGEN setting:\n  " + "\n  ".join(lines)


class InvalidSettings(VideogenError, ImproperlyConfigured):
    """``VIDEOGEN`` does not validate; ``problems`` holds ``(where, what)`` per bad key."""

    def __init__(self, message: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def load(raw: Any) -> VideogenSettings:
    """Validate a raw ``VIDEOGEN`` value; raise ``InvalidSettings`` naming each bad key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        what = f"must be a dict, got {type(raw).__name__}"
        raise InvalidSettings(f"VIDEOGEN {what}.", [("VIDEOGEN", what)])
    try:
        return VideogenSettings.model_validate(_with_environment(raw))
    except ValidationError as error:
        raise InvalidSettings(_describe(error), problems(error)) from None


def require_api_key() -> None:
    """Refuse before sending: without a key the provider answers 401 and the job would fail."""
    if get_settings().api_key is None:
        raise NotConfigured(gettext("No Together API key is configured, so nothing was sent. "
                                    "%(hint)s") % {"hint": api_key_hint()})


def api_key_hint() -> str:
    """How to give the missing API key; an explicit ``None`` hides the environment variable."""
    raw = getattr(django_settings, "VIDEOGEN", None)
    if isinstance(raw, dict) and "API_KEY" in raw:
        return ("VIDEOGEN['API_KEY'] is set to an empty value, which takes precedence over the "
                "TOGETHER_API_KEY environment variable: give it the key, or remove it so the "
                "variable is used.")
    return "Set VIDEOGEN['API_KEY'] or the TOGETHER_API_KEY environment variable."


_cache: dict[str, Any] = {}  # "current": the settings; "catalog": the site catalog


def site_catalog() -> Mapping[str, ModelSpec]:
    """The models this site knows: the built-in table plus ``VIDEOGEN["MODELS"]`` (cached
    with the settings). :mod:`videogen.catalog` reads it through ``catalog.site_catalog()``."""
    if "catalog" not in _cache:
        try:
            _cache["catalog"] = catalog.merge(catalog.BUILTIN, get_settings().models)
        except ValueError as error:
            raise ImproperlyConfigured(str(error)) from None
    return _cache["catalog"]


def get_settings() -> VideogenSettings:
    """The current validated settings (cached until ``VIDEOGEN`` changes)."""
    if "current" not in _cache:
        _cache["current"] = load(getattr(django_settings, "VIDEOGEN", None))
    return _cache["current"]


@receiver(setting_changed)
def _forget(setting: str, **kwargs: Any) -> None:
    if setting == "VIDEOGEN":
        _cache.clear()


def clear_cache() -> None:
    """Forget the cached settings (after changing environment variables, say)."""
    _cache.clear()
