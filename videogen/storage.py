"""Which storage archived videos and posters go to, and under which names.

New archives go to the alias in ``VIDEOGEN["STORAGE"]``; each job records the alias its files
went to (``VideoJob.storage_alias``) and reads them from there, so a site that switches the
setting (local files to S3, say) keeps serving its older archives until
``manage.py videogen move-archives`` moves them.

The model's ``FileField`` gets :func:`archive_storage`, a callable, so migrations record a reference
rather than a concrete backend; the returned object resolves ``VIDEOGEN["STORAGE"]`` on every call
(for files not yet saved). A saved file's storage comes from its row: :class:`ArchiveFieldFile`.
"""

from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import InvalidStorageError, Storage, storages
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from videogen.conf import get_settings
from videogen.exceptions import VideogenError

if TYPE_CHECKING:
    from videogen.models import VideoJob

logger = logging.getLogger("videogen.storage")

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


class UnknownStorage(VideogenError, ImproperlyConfigured):
    """A job's files live in a storage alias that STORAGES no longer has."""


def current_alias() -> str:
    """Where new archives go: ``VIDEOGEN["STORAGE"]``."""
    return get_settings().storage


def storage_for(alias: str) -> Storage:
    """The storage of ``alias`` (empty: the current one), or :class:`UnknownStorage` saying
    which alias is missing and which there are."""
    alias = alias or current_alias()
    try:
        return storages[alias]
    except InvalidStorageError:
        raise UnknownStorage(unknown_alias_message(alias)) from None


def unknown_alias_message(alias: str) -> str:
    from django.conf import settings

    known = ", ".join(sorted(getattr(settings, "STORAGES", {}))) or "none"
    return _("The storage alias %(alias)r is not in STORAGES (there are: %(known)s).") % {
        "alias": alias, "known": known}


def storage_problem(job: models.Model) -> str:
    """Why the job's files cannot be read where its row says they are ("" when they can):
    their alias was taken out of STORAGES. Logged, naming the job and the alias. (Any row
    with ``video``/``poster`` and ``storage_alias`` fields: a file's ``instance`` too.)"""
    if not (getattr(job, "video", None) or getattr(job, "poster", None)):
        return ""
    try:
        storage_for(getattr(job, "storage_alias", ""))
    except UnknownStorage as error:
        logger.error("job %s: its archive is in storage %r, which STORAGES no longer has",
                     job.pk, getattr(job, "storage_alias", ""))
        return str(error)
    return ""


def file_url(file: FieldFile) -> str:
    """The file's URL; "" when there is no file or its storage alias is gone (logged): a page
    or a payload then goes without it instead of failing whole."""
    if not file:
        return ""
    try:
        return file.url
    except UnknownStorage:
        storage_problem(file.instance)
        return ""


class ArchiveFieldFile(FieldFile):
    """A job's video or poster, in the storage its row names (``storage_alias``) rather than
    the field's: one alias for both files, since they are saved and moved together."""

    @property
    def storage(self) -> Storage:
        return storage_for(getattr(self.instance, "storage_alias", ""))

    @storage.setter
    def storage(self, value: Storage) -> None:
        pass  # FieldFile assigns the field's storage; the row's alias decides instead

    def save(self, name: str, content: Any, save: bool = True) -> None:
        # A file saved through the field goes where new archives go, and the row says so.
        # Only when the row names no other file: video and poster share one alias.
        if not self._other_file():
            setattr(self.instance, "storage_alias", current_alias())  # noqa: B010 (any model)
        super().save(name, content, save)

    def _other_file(self) -> str:
        other = "poster" if self.field.name == "video" else "video"
        value = self.instance.__dict__.get(other)
        return str(getattr(value, "name", value) or "")


class ArchiveFileField(models.FileField):
    attr_class = ArchiveFieldFile


def archive_name(job: VideoJob, ext: str, *, suffix: str = "") -> str:
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
