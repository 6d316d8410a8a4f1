"""Settings of the demo host project, taken from environment variables with safe local defaults.

- ``DATABASE_URL``: e.g. ``postgres://postgres@127.0.0.1:5432/test``; default a SQLite file.
- ``REDIS_URL``: django-q2's Redis broker; default the ORM broker (the database).
- ``TOGETHER_API_KEY`` / ``TOGETHER_BASE_URL``: passed to ``VIDEOGEN``.
- ``DJANGO_DEBUG`` (default on), ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``.

Production profile (``DJANGO_DEBUG=0``; ``python manage.py check --deploy`` is clean with it):

- ``DJANGO_SECRET_KEY`` (required, 50+ random characters), ``DJANGO_ALLOWED_HOSTS``
  (comma-separated), ``TOGETHER_API_KEY`` (required: no demo key is filled in).
- ``TOGETHER_BASE_URL`` defaults to the real API (https), not the local sandbox.
- ``SITE_URL``: the public https address, for absolute URLs in webhook payloads.
- ``DJANGO_CSRF_TRUSTED_ORIGINS``: comma-separated origins (``https://videos.example.com``).
- ``DJANGO_BEHIND_PROXY=1``: trust ``X-Forwarded-Proto`` from a TLS-terminating proxy (set it
  only when the proxy overwrites that header), so the https redirect does not loop.
- ``DJANGO_SSL_REDIRECT=0``: leave the https redirect to the proxy.
- Webhook URLs on loopback are allowed only in DEBUG or for the demo's own receiver
  (``DEMO_WEBHOOK_RECEIVER=1``); ``VIDEOGEN_WEBHOOK_ALLOWED_HOSTS`` (comma-separated hosts or
  CIDR ranges) allows internal receivers explicitly.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
    SECRET_KEY = "demo-only-insecure-key-do-not-use-in-production"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "videogen",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_redis_url = os.environ.get("REDIS_URL", "")

# Lets two test runs share a machine without sharing a test database or a broker queue.
TEST_DB_SUFFIX = os.environ.get("VIDEOGEN_TEST_DB_SUFFIX", "")
DATABASES = {
    "default": dj_database_url.config(
        # Persistent connections: django-q2's ORM broker calls close_old_connections() on
        # every enqueue, which with CONN_MAX_AGE 0 reconnects for each task (bench P4).
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker processes and the web server share the file: wait for locks instead of failing.
    # WAL: readers never wait for the writer, and a commit is an append (synchronous=NORMAL
    # syncs at checkpoints), which matters with a cluster and the web server on one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that test servers, threads and qcluster processes share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db{TEST_DB_SUFFIX}.sqlite3")}
elif TEST_DB_SUFFIX:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}{TEST_DB_SUFFIX}"}

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("MEDIA_ROOT", BASE_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", BASE_DIR / "media")
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

Q_CLUSTER = {
    "name": f"videogen-demo{TEST_DB_SUFFIX}",
    # More workers than cores: the poll task holds one for up to 45 s, and archives and
    # webhook deliveries mostly wait on the network, the disk and the database (bench P4:
    # 100 completions at once, p50 to the webhook halves from 4 workers to 6 on PostgreSQL).
    "workers": int(os.environ.get("Q_WORKERS", "6")),
    # The poll task runs VIDEOGEN["POLL"]["LOOP_SECONDS"] (45 s); timeout leaves room, retry
    # stays above timeout so django-q2 never re-delivers a task that is still running.
    "timeout": 90,
    "retry": 150,
    "max_attempts": 1,
    "catch_up": False,
    # Keep failed tasks only: videogen records every outcome in the job's history and the
    # delivery log, and django-q2 prunes saved successes by locking all of them (up to
    # save_limit rows) on every task, a write lock SQLite shares with every worker.
    "save_limit": -1,
    "label": "Tasks",
    # The ORM broker keeps the queue in the site's database. Not in a second SQLite file:
    # django-q2's scheduler enqueues inside a transaction on "default", and an enqueue on
    # another alias closes that connection mid-transaction, so no schedule ever advances.
    **({"redis": _redis_url} if _redis_url else {"orm": "default"}),
}

# The demo talks to the local sandbox (make demo starts it) unless told otherwise.
SANDBOX_URL = os.environ.get("VIDEOGEN_SANDBOX_URL", "http://127.0.0.1:8765")
DEMO_RECEIVER = env_flag("DEMO_WEBHOOK_RECEIVER", False)
# Outside DEBUG nothing points at the sandbox by default: a production site that forgot
# TOGETHER_API_KEY fails its checks (videogen.E001) instead of running with a demo key.
_api_key = os.environ.get("TOGETHER_API_KEY") or ("sandbox-demo-key" if DEBUG else None)
VIDEOGEN: dict[str, Any] = {
    "API_KEY": _api_key,
    "BASE_URL": os.environ.get("TOGETHER_BASE_URL") or (SANDBOX_URL if DEBUG else
                                                         "https://api.together.ai"),
    "STORAGE": "default",
    "WEBHOOKS": {
        # Loopback receivers are the demo's; in production they would be an SSRF hole.
        "ALLOWED_HOSTS": [*(["127.0.0.1", "localhost"] if DEBUG or DEMO_RECEIVER else []),
                          *env_list("VIDEOGEN_WEBHOOK_ALLOWED_HOSTS")],
        "SITE_URL": os.environ.get("SITE_URL") or ("http://127.0.0.1:8000" if DEBUG else None),
    },
}
# The demo's sandbox generates at this fraction of the real API's time (hailuo-02's typical
# 240 s take 2.4 s), and the poller is told so: the first poll, the poll rhythm and the
# progress bar follow the sandbox. A site that talks to the real API keeps the default, 1.
SANDBOX_TIME_SCALE = float(os.environ.get("DEMO_TIME_SCALE", "0.01"))
if VIDEOGEN["BASE_URL"] == SANDBOX_URL:
    VIDEOGEN["POLL"] = {"TIME_SCALE": SANDBOX_TIME_SCALE, "MIN_INTERVAL": 1}
if DEMO_RECEIVER:
    # `make demo` sends every event to the demo's own receiver (/demo/webhook-receiver/).
    VIDEOGEN["WEBHOOKS"]["ENDPOINTS"] = [{
        "KEY": "demo-receiver",
        "URL": os.environ.get("DEMO_WEBHOOK_URL", "http://127.0.0.1:8000/demo/webhook-receiver/"),
        "DESCRIPTION": "Demo receiver (this site)",
    }]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"videogen": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_flag("DJANGO_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
