"""Which storage archived videos and posters go to, and under which names.

The model's ``FileField`` gets :func:`archive_storage`, a callable, so migrations record a reference
rather than a concrete backend; the returned object resolves ``VIDEOGEN["STORAGE"]`` on every call,
so a host site can change the alias (or ``override_settings`` it in tests) without a migration.
"""

from __future__ import annotations

import posixpath
from typing import Any

from django.core.files.storage import Storage, storages
from django.utils import timezone

from videogen.conf import get_settings

_DELEGATED = (
    "open",
    "save",
    "get_valid_name",
    "get_alternative_name",
    "get_available_name",
    "generate_filename",
    "path",
    "delete",
    "exists",
    "listdir",
    "size",
    "url",
    "get_accessed_time",
    "get_created_time",
    "get_modified_time",
)


class ArchiveStorage(Storage):
    """Forwards every storage call to ``storages[VIDEOGEN["STORAGE"]]`` at call time."""

    @property
    def target(self) -> Storage:
        return storages[get_settings().storage]

    def __getattr__(self, name: str) -> Any:
        # Backend-specific extras (``bucket``, ``location``...) of the real storage.
        return getattr(self.target, name)


def _forward(name: str) -> Any:
    def method(self: ArchiveStorage, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.target, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in _DELEGATED:
    setattr(ArchiveStorage, _name, _forward(_name))


def archive_storage() -> Storage:
    return ArchiveStorage()


def archive_name(job: Any, ext: str, *, suffix: str = "") -> str:
    """A job's file name from ``VIDEOGEN["UPLOAD_TO"]`` (strftime plus {id} {model} {ext})."""
    pattern = get_settings().upload_to
    when = job.created_at or timezone.now()
    # strftime first: the placeholders have no "%" and the values must not be interpreted.
    name = when.strftime(pattern)
    name = name.replace("{model}", str(job.model).replace("/", "-"))
    name = name.replace("{id}", f"{job.pk}{suffix}").replace("{ext}", ext.lstrip("."))
    return posixpath.normpath(name)


def upload_video_to(instance: Any, filename: str) -> str:
    return archive_name(instance, posixpath.splitext(filename)[1] or ".mp4")


def upload_poster_to(instance: Any, filename: str) -> str:
    return archive_name(instance, "jpg", suffix="-poster")
