"""Each system check fires when it should and stays quiet otherwise."""

import pytest
from django.core.management import call_command

from videogen import checks


def ids(messages):
    return [m.id for m in messages]


def test_missing_api_key_is_a_warning_in_debug_and_an_error_otherwise(settings, monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    settings.VIDEOGEN = {}
    settings.DEBUG = True
    assert ids(checks.check_api_key()) == ["videogen.W001"]
    settings.DEBUG = False
    messages = checks.check_api_key()
    assert ids(messages) == ["videogen.E001"]
    assert "TOGETHER_API_KEY" in messages[0].hint
    settings.VIDEOGEN = {"API_KEY": "k"}
    assert checks.check_api_key() == []


def test_unknown_storage_alias(settings):
    settings.VIDEOGEN = {"STORAGE": "videos"}
    messages = checks.check_storage()
    assert ids(messages) == ["videogen.E002"]
    assert "'videos'" in messages[0].msg and "default" in messages[0].hint
    settings.VIDEOGEN = {"STORAGE": "default"}
    assert checks.check_storage() == []


def test_django_q_missing(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django_q"]
    assert ids(checks.check_django_q()) == ["videogen.E003"]


def test_cluster_timeout_shorter_than_poll_loop(settings):
    settings.VIDEOGEN = {"POLL": {"LOOP_SECONDS": 45}}
    settings.Q_CLUSTER = {"timeout": 30, "retry": 120, "orm": "default"}
    assert ids(checks.check_django_q()) == ["videogen.E004"]
    settings.Q_CLUSTER = {"timeout": 90, "retry": 60, "orm": "default"}
    assert ids(checks.check_django_q()) == ["videogen.W002"]
    settings.Q_CLUSTER = {"timeout": 90, "retry": 150, "orm": "default"}
    assert checks.check_django_q() == []


def test_a_single_worker_cluster_is_warned_about(settings):
    settings.Q_CLUSTER = {"timeout": 90, "retry": 150, "workers": 1, "orm": "default"}
    assert ids(checks.check_django_q()) == ["videogen.W003"]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    assert checks.check_django_q() == []


def test_base_url_must_be_https_outside_debug(settings):
    settings.VIDEOGEN = {"BASE_URL": "http://127.0.0.1:8765"}
    settings.DEBUG = True
    assert checks.check_base_url() == []
    settings.DEBUG = False
    assert ids(checks.check_base_url()) == ["videogen.E005"]
    settings.VIDEOGEN = {"BASE_URL": "https://api.together.ai"}
    assert checks.check_base_url() == []


def test_checks_run_by_tag(settings, capsys):
    settings.VIDEOGEN = {"STORAGE": "nope", "API_KEY": "k"}
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError, match="videogen.E002"):
        call_command("check", "--tag", "videogen")


@pytest.mark.django_db  # Django 6.0+ `check` runs model checks on every database
def test_demo_project_is_clean(settings):
    settings.DEBUG = True  # as `make demo` runs it (the test runner turns DEBUG off)
    call_command("check", "--fail-level", "WARNING")


def test_a_broker_database_missing_from_databases_is_an_error(settings):
    settings.Q_CLUSTER = {"timeout": 90, "retry": 150, "orm": "tasks"}
    [error] = checks.check_django_q()
    assert error.id == "videogen.E006" and "'tasks'" in error.msg and "DATABASES" in error.msg
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": "default"}
    assert checks.check_django_q() == []


def test_a_broker_on_another_database_is_an_error(settings):
    # django-q2's scheduler then fails on every tick: no poll, sweep or webhook retry runs.
    settings.DATABASES = {**settings.DATABASES, "queue": settings.DATABASES["default"]}
    settings.Q_CLUSTER = {"timeout": 90, "retry": 150, "orm": "queue"}
    [error] = checks.check_django_q()
    assert error.id == "videogen.E007" and "'queue'" in error.msg and "'default'" in error.hint


def test_invalid_settings_are_one_check_error_per_key_and_other_checks_stay_quiet(settings):
    settings.VIDEOGEN = {"POLL": {"CONCURENCY": 4}, "TIMEOUT": "soon"}
    settings.DEBUG = False
    messages = checks.check_settings()
    assert ids(messages) == ["videogen.E008", "videogen.E008"]
    texts = " ".join(m.msg for m in messages)
    assert "VIDEOGEN['POLL']['CONCURENCY']" in texts and "did you mean CONCURRENCY?" in texts
    assert "VIDEOGEN['TIMEOUT']" in texts
    # The other checks need valid settings; they leave the report to check_settings.
    for other in (checks.check_api_key, checks.check_storage, checks.check_base_url):
        assert other() == []
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError, match="did you mean CONCURRENCY"):
        call_command("check", "--tag", "videogen")
    settings.VIDEOGEN = {"API_KEY": "k"}
    assert checks.check_settings() == []


def test_an_api_key_set_to_none_explicitly_gets_its_own_hint(settings, monkeypatch):
    # TOGETHER_API_KEY is set, but VIDEOGEN["API_KEY"] = None takes precedence over it.
    monkeypatch.setenv("TOGETHER_API_KEY", "sk-in-the-environment")
    settings.VIDEOGEN = {"API_KEY": None}
    settings.DEBUG = False
    [error] = checks.check_api_key()
    assert error.id == "videogen.E001"
    assert "VIDEOGEN['API_KEY'] is set to an empty value" in error.hint


def test_a_redis_broker_without_the_redis_package_is_an_error(settings, monkeypatch):
    import sys

    settings.Q_CLUSTER = {"timeout": 90, "retry": 150, "redis": "redis://127.0.0.1:6379/0"}
    assert checks.check_django_q() == []  # redis is installed here
    monkeypatch.setitem(sys.modules, "redis", None)  # as if it were not: import fails
    [error] = checks.check_django_q()
    assert error.id == "videogen.E009" and "'redis' package" in error.msg
    assert "django-videogen[redis]" in error.hint
