"""System checks, tagged ``videogen`` so ``manage.py check --tag videogen`` runs only these.

None of them touches the database (Django's docs forbid it: checks run before migrations),
except :func:`check_archive_aliases`, tagged ``database`` too: like Django's own database checks
it runs only when asked, ``manage.py check --database default`` (``migrate`` does).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from videogen.conf import InvalidSettings, VideogenSettings, api_key_hint, get_settings

TAG = "videogen"
# The poll task must return this many seconds before django-q2 would kill or re-deliver it.
POLL_TASK_MARGIN = 15.0


def _valid_settings() -> VideogenSettings | None:
    """The settings, or None when they do not validate (``check_settings`` reports that)."""
    try:
        return get_settings()
    except InvalidSettings:
        return None


@register(TAG)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        get_settings()
    except InvalidSettings as invalid:
        return [
            Error(f"{where}: {what}", hint="See docs/settings.md for the keys and their values.",
                  id="videogen.E008")
            for where, what in invalid.problems
        ]
    return []


@register(TAG)
def check_api_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    conf = _valid_settings()
    if conf is None or conf.api_key:
        return []
    hint = api_key_hint()
    msg = "No Together API key is configured; jobs cannot be submitted."
    if settings.DEBUG:
        return [Warning(msg, hint=hint, id="videogen.W001")]
    return [Error(msg, hint=hint, id="videogen.E001")]


@register(TAG)
def check_storage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    conf = _valid_settings()
    if conf is None or conf.storage in getattr(settings, "STORAGES", {}):
        return []
    alias = conf.storage
    known = ", ".join(sorted(getattr(settings, "STORAGES", {}))) or "none"
    return [
        Error(
            f"VIDEOGEN['STORAGE'] names the storage alias {alias!r}, which STORAGES does not "
            "define.",
            hint=f"Use one of the aliases in STORAGES ({known}) or add {alias!r} to STORAGES.",
            id="videogen.E002",
        )
    ]


# Tagged "database" only: Django 6 runs a --tag selection against every database, so under the
# "videogen" tag `check --tag videogen` would query (and need a migrated database).
@register(Tags.database)
def check_archive_aliases(app_configs: Any = None, databases: Any = None, **kwargs: Any
                          ) -> list[CheckMessage]:
    """Archives recorded in a storage alias STORAGES no longer has: their files cannot be
    read (pages show a notice, payloads go without URLs) until the alias is back."""
    from videogen.models import VideoJob

    known = set(getattr(settings, "STORAGES", {}))
    messages: list[CheckMessage] = []
    for database in databases or []:
        try:
            aliases = set(VideoJob.objects.using(database).exclude(storage_alias="")
                          .values_list("storage_alias", flat=True).distinct())
        except DatabaseError:
            continue  # not migrated yet: there is nothing to read
        messages += [Warning(
            f"Archives in database {database!r} are in the storage alias {alias!r}, which "
            "STORAGES does not define; their files cannot be read.",
            hint=f"Add {alias!r} back to STORAGES (and move them elsewhere with manage.py "
                 "videogen move-archives --to ALIAS if it is going away).",
            id="videogen.W004") for alias in sorted(aliases - known)]
    return messages


@register(TAG)
def check_django_q(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not apps.is_installed("django_q"):
        return [
            Error(
                "django-q2 is not installed; nothing would poll, archive or deliver webhooks.",
                hint="Add 'django_q' to INSTALLED_APPS and run a cluster (manage.py qcluster).",
                id="videogen.E003",
            )
        ]
    cluster = getattr(settings, "Q_CLUSTER", {}) or {}
    conf = _valid_settings()
    timing = _check_cluster_timing(cluster, conf.poll.loop_seconds) if conf else []
    return timing + _check_broker_database(cluster) + _check_broker_package(cluster)


# django-q2's brokers other than the ORM, by their Q_CLUSTER key: (module, what to install).
BROKER_PACKAGES = {
    "redis": ("redis", '"django-videogen[redis]" (or redis)'),
    "django_redis": ("django_redis", "django-redis"),
    "sqs": ("boto3", "boto3"),
    "mongo": ("pymongo", "pymongo"),
    "ironmq": ("iron_mq", "iron-mq"),
}


def _check_broker_package(cluster: dict[str, Any]) -> list[CheckMessage]:
    """django-q2 imports its broker's package only when the cluster starts: qcluster would
    crash after a clean check."""
    messages: list[CheckMessage] = []
    for key, (module, install) in BROKER_PACKAGES.items():
        if not cluster.get(key):
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            messages.append(Error(
                f"Q_CLUSTER[{key!r}] selects a django-q2 broker that needs the {module!r} "
                "package, which cannot be imported: qcluster would crash at start.",
                hint=f"pip install {install}, or configure another broker.",
                id="videogen.E009",
            ))
    return messages


def _check_broker_database(cluster: dict[str, Any]) -> list[CheckMessage]:
    alias = cluster.get("orm")
    if not alias or alias == DEFAULT_DB_ALIAS:
        return []
    if alias not in settings.DATABASES:
        return [
            Error(
                f"Q_CLUSTER['orm'] names the database {alias!r}, which DATABASES does not "
                "define: no task could be queued.",
                hint="Use Q_CLUSTER['orm'] = 'default'.",
                id="videogen.E006",
            )
        ]
    # django-q2's scheduler saves each schedule in a transaction on "default" and enqueues
    # through the broker meanwhile; on another alias the broker's close_old_connections()
    # closes "default" inside that transaction, so every schedule fails on every tick.
    return [
        Error(
            f"Q_CLUSTER['orm'] is {alias!r}: with the queue on a database other than "
            "'default', django-q2's scheduler fails on every tick (\"Cannot operate on a "
            "closed database\"), so videogen's polls, sweeps and webhook retries never run.",
            hint="Use Q_CLUSTER['orm'] = 'default', or the Redis broker.",
            id="videogen.E007",
        )
    ]


def _check_cluster_timing(cluster: dict[str, Any], loop: float) -> list[CheckMessage]:
    timeout, retry = cluster.get("timeout"), cluster.get("retry", 60)
    messages: list[CheckMessage] = []
    if timeout is not None and timeout < loop + POLL_TASK_MARGIN:
        messages.append(
            Error(
                f"Q_CLUSTER['timeout'] ({timeout}s) is shorter than the poll task's run time "
                f"(VIDEOGEN['POLL']['LOOP_SECONDS'] = {loop}s plus {POLL_TASK_MARGIN:.0f}s).",
                hint="Raise Q_CLUSTER['timeout'] or lower VIDEOGEN['POLL']['LOOP_SECONDS'].",
                id="videogen.E004",
            )
        )
    limit = timeout if timeout is not None else loop + POLL_TASK_MARGIN
    if retry is not None and retry <= limit:
        messages.append(
            Warning(
                f"Q_CLUSTER['retry'] ({retry}s) is not longer than the longest task run "
                f"({limit:.0f}s): django-q2 re-delivers tasks that are still running.",
                hint="Set Q_CLUSTER['retry'] above Q_CLUSTER['timeout'] (e.g. timeout + 60).",
                id="videogen.W002",
            )
        )
    workers = cluster.get("workers")
    if workers is not None and workers < 2:
        messages.append(
            Warning(
                f"Q_CLUSTER['workers'] is {workers}: the poll task holds a worker for up to "
                f"{loop:.0f}s, so archives and webhook deliveries would wait behind it.",
                hint="Give the cluster at least 2 workers; archives and deliveries wait on the "
                     "network and disk, so more workers than CPU cores pay off (the demo uses 4).",
                id="videogen.W003",
            )
        )
    return messages


@register(TAG)
def check_base_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    conf = _valid_settings()
    if conf is None:
        return []
    url = conf.base_url
    if url.startswith("https://") or settings.DEBUG:
        return []
    return [
        Error(
            f"VIDEOGEN['BASE_URL'] ({url}) is not https: the API key would travel in clear text.",
            hint="Use https:// outside DEBUG; plain http is only for a local sandbox.",
            id="videogen.E005",
        )
    ]
