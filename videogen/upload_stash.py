"""Images uploaded to a job form that came back with errors, kept for the next try.

A browser cannot refill a file input, so without this staff chose every image again after any
mistake elsewhere in the form. The bytes go to the archive storage (shared by every web
server, unlike a local folder) under ``videogen-partial/uploads/<token>``; the page carries
only the random token, never the image, which could exceed Django's limit on a POST's
non-file data. What is not used within a day is deleted by the sweeper.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from videogen.catalog import MAX_IMAGE_BYTES
from videogen.storage import archive_storage

logger = logging.getLogger("videogen.forms")

FOLDER = "videogen-partial/uploads"
MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"[0-9a-f]{32}")


def stash(data: bytes) -> str:
    """Keep ``data``; returns the token that finds it again."""
    token = secrets.token_hex(16)
    archive_storage().save(_name(token), ContentFile(data))
    return token


def load(token: str) -> bytes | None:
    """The bytes kept under ``token``, or None when it is not a token or they are gone."""
    if not _TOKEN.fullmatch(token):
        return None
    try:
        with archive_storage().open(_name(token), "rb") as file:
            return file.read(MAX_IMAGE_BYTES + 1)
    except (OSError, ValueError):
        return None


def discard(token: str) -> None:
    if _TOKEN.fullmatch(token):
        _delete(_name(token))


def remove_stale() -> int:
    """Delete what has waited longer than ``MAX_AGE``; returns how many files."""
    storage = archive_storage()
    try:
        names = storage.listdir(FOLDER)[1]
    except (OSError, NotImplementedError):
        return 0  # nothing was ever kept (FileSystemStorage: no such folder)
    cutoff, removed = timezone.now() - MAX_AGE, 0
    for name in names:
        path = f"{FOLDER}/{name}"
        try:
            stale = storage.get_modified_time(path) < cutoff
        except (OSError, NotImplementedError):
            continue
        if stale and _delete(path):
            removed += 1
    return removed


def _name(token: str) -> str:
    return f"{FOLDER}/{token}"


def _delete(name: str) -> bool:
    try:
        archive_storage().delete(name)
        return True
    except OSError:
        logger.warning("could not delete the kept upload %s", name, exc_info=True)
        return False
