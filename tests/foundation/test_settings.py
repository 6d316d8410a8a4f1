"""VIDEOGEN settings: defaults, environment, validation naming the key, secrets kept out."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from videogen.conf import DEFAULT_BASE_URL, clear_cache, get_settings, load

SECRET = "tgp_v1_super-secret-key-123"


def test_defaults(monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    conf = load({})
    assert conf.api_key is None
    assert conf.base_url == DEFAULT_BASE_URL
    assert conf.timeout == 60 and conf.connect_timeout == 5
    assert conf.storage == "default"
    assert conf.poll.concurrency == 48
    assert conf.webhooks.retry_schedule[0] == 5
    assert conf.budget.daily is None


def test_none_means_defaults():
    assert load(None).storage == "default"


def test_upper_case_keys_and_nested_sections():
    conf = load({"API_KEY": SECRET, "BASE_URL": "http://127.0.0.1:9/", "POLL": {
        "CONCURRENCY": 64, "MAX_AGE": 600}, "BUDGET": {"DAILY": "12.50"}})
    assert conf.api_key_value() == SECRET
    assert conf.base_url == "http://127.0.0.1:9"
    assert conf.poll.concurrency == 64 and conf.poll.max_age == 600
    assert str(conf.budget.daily) == "12.50"


def test_environment_fills_missing_key_and_url(monkeypatch):
    monkeypatch.setenv("TOGETHER_API_KEY", SECRET)
    monkeypatch.setenv("TOGETHER_BASE_URL", "https://api.together.xyz")
    conf = load({})
    assert conf.api_key_value() == SECRET
    assert conf.base_url == "https://api.together.xyz"
    assert load({"API_KEY": "explicit"}).api_key_value() == "explicit"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"TIMEOUT": "soon"}, "VIDEOGEN['TIMEOUT']: Input should be a valid number"),
        ({"POLL": {"CONCURRENCY": 0}}, "VIDEOGEN['POLL']['CONCURRENCY']: Input should be greater"),
        ({"POLL": {"SPEED": 3}}, "VIDEOGEN['POLL']['SPEED']: Extra inputs are not permitted"),
        ({"API_KYE": "x"}, "VIDEOGEN['API_KYE']: Extra inputs are not permitted"),
        ({"BASE_URL": "ftp://x"}, "VIDEOGEN['BASE_URL']: Value error, must start with http"),
        ({"UPLOAD_TO": "videos/a.mp4"}, "VIDEOGEN['UPLOAD_TO']: Value error, must contain {id}"),
        ({"BUDGET": {"DAILY": -1}}, "VIDEOGEN['BUDGET']['DAILY']: Input should be greater"),
    ],
)
def test_bad_values_name_the_key(raw, expected):
    with pytest.raises(ImproperlyConfigured) as error:
        load(raw)
    assert expected in str(error.value)


def test_not_a_dict():
    with pytest.raises(ImproperlyConfigured, match="VIDEOGEN must be a dict, got list"):
        load([])


def test_secret_never_in_repr_or_errors():
    conf = load({"API_KEY": SECRET})
    assert SECRET not in repr(conf) and SECRET not in str(conf)
    assert SECRET not in repr(conf.api_key)
    # A secret put where a number belongs must not be echoed by the error either.
    with pytest.raises(ImproperlyConfigured) as error:
        load({"API_KEY": SECRET, "TIMEOUT": SECRET})
    assert SECRET not in str(error.value)


def test_read_at_call_time(settings):
    settings.VIDEOGEN = {"STORAGE": "first"}
    assert get_settings().storage == "first"
    settings.VIDEOGEN = {"STORAGE": "second"}
    assert get_settings().storage == "second"


def test_environment_change_needs_clear_cache(monkeypatch, settings):
    settings.VIDEOGEN = {}
    monkeypatch.setenv("TOGETHER_API_KEY", "one")
    clear_cache()
    assert get_settings().api_key_value() == "one"
    monkeypatch.setenv("TOGETHER_API_KEY", "two")
    clear_cache()
    assert get_settings().api_key_value() == "two"
    clear_cache()


def _manage(tmp_path, videogen, *args):
    import subprocess
    import sys

    (tmp_path / "bad_settings.py").write_text(
        f"from project.settings import *\nVIDEOGEN = {videogen!r}\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}:.", "DJANGO_SETTINGS_MODULE": "bad_settings",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True,
                          text=True, env=env)


def test_a_misspelt_key_is_a_check_error_with_a_suggestion(tmp_path):
    """`check` reports the key and the nearest known one, not a traceback."""
    result = _manage(tmp_path, {"POLL": {"CONCURENCY": 4}}, "check")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "videogen.E008" in result.stderr
    assert "VIDEOGEN['POLL']['CONCURENCY']" in result.stderr
    assert "did you mean CONCURRENCY?" in result.stderr


def test_other_commands_start_with_a_misspelt_key(tmp_path):
    result = _manage(tmp_path, {"API_KYE": "x"}, "shell", "-c", "print('started')")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ({"POLL": {"CONCURENCY": 4}}, "did you mean CONCURRENCY?"),
        ({"poll": {"concurency": 4}}, "did you mean CONCURRENCY?"),
        ({"WEBHOOKS": {"ENDPOINTS": [{"KEY": "a", "URL": "https://x.org", "EVENT": []}]}},
         "did you mean EVENTS?"),
        ({"API_KYE": "x"}, "did you mean API_KEY?"),
    ],
)
def test_misspelt_keys_get_the_nearest_known_key(raw, suggestion):
    with pytest.raises(ImproperlyConfigured, match=suggestion.replace("?", r"\?")):
        load(raw)


def test_an_unknown_key_far_from_any_gets_no_suggestion():
    with pytest.raises(ImproperlyConfigured) as error:
        load({"ZZZZZZ": 1})
    assert "did you mean" not in str(error.value)
