"""The demo project's production profile: ``check --deploy`` is clean, and nothing of the demo
(sandbox URL, demo key, loopback webhooks, a public list of received payloads) leaks into it."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.reliability
ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
              "DJANGO_ALLOWED_HOSTS": "videos.example.com",
              "TOGETHER_API_KEY": "tok-" + secrets.token_hex(16),
              "SITE_URL": "https://videos.example.com"}
# Variables of the developer's shell or of this test run that would change the profile.
DROPPED = ("TOGETHER_BASE_URL", "DEMO_WEBHOOK_RECEIVER", "VIDEOGEN_WEBHOOK_ALLOWED_HOSTS",
           "DJANGO_SSL_REDIRECT", "DJANGO_BEHIND_PROXY", "DJANGO_SETTINGS_MODULE")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in DROPPED}
    environ.update({**PRODUCTION, **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def production_settings(**env: str) -> dict:
    code = ("import json, django; from django.conf import settings as s; django.setup(); "
            "v = s.VIDEOGEN; print(json.dumps({'base_url': v['BASE_URL'], 'api_key': "
            "v['API_KEY'], 'hooks': v['WEBHOOKS']['ALLOWED_HOSTS'], 'site': "
            "v['WEBHOOKS']['SITE_URL'], 'proxy': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
            "'csrf': s.CSRF_TRUSTED_ORIGINS}))")
    result = run("-c", code, DJANGO_SETTINGS_MODULE="project.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_check_deploy_is_clean_for_the_production_profile():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.slow
def test_without_an_api_key_production_fails_its_checks_instead_of_using_a_demo_key():
    result = run("manage.py", "check", "--deploy", TOGETHER_API_KEY="")
    assert result.returncode != 0
    assert "videogen.E001" in result.stderr


@pytest.mark.slow
def test_the_production_profile_keeps_nothing_of_the_demo():
    values = production_settings()
    assert values["base_url"] == "https://api.together.ai"
    assert values["api_key"] == PRODUCTION["TOGETHER_API_KEY"]
    assert values["hooks"] == []  # loopback receivers would be an SSRF hole in production
    assert values["site"] == "https://videos.example.com"
    assert values["proxy"] is None
    opted_in = production_settings(
        DEMO_WEBHOOK_RECEIVER="1", VIDEOGEN_WEBHOOK_ALLOWED_HOSTS="10.1.0.0/16, hooks.internal",
        DJANGO_BEHIND_PROXY="1", DJANGO_CSRF_TRUSTED_ORIGINS="https://videos.example.com")
    assert opted_in["hooks"] == ["127.0.0.1", "localhost", "10.1.0.0/16", "hooks.internal"]
    assert opted_in["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert opted_in["csrf"] == ["https://videos.example.com"]


@pytest.mark.django_db
def test_the_demo_receivers_list_of_payloads_is_for_staff_only(client, django_user_model):
    url = reverse("demo-webhook-receiver")
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    assert client.get(url).status_code == 200
