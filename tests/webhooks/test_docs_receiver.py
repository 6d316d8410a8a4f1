"""docs/webhooks.md's Django receiver, run exactly as the page prints it: loaded as a site's
views.py, routed, and sent signed events through Django's test client."""

import json
import logging
import re
import sys
import time
import types
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import path

from videogen.webhooks import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
MARKER = "<!-- tested: tests/webhooks/test_docs_receiver.py -->"
CODE = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", DOC.read_text(), re.S).group(1)
SECRET = signing.generate_secret()


def as_module(name, code):
    module = types.ModuleType(name)
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    sys.modules[name] = module
    return module


@pytest.fixture(autouse=True)
def site(settings):
    views = as_module("docs_webhooks_views", CODE)
    urls = as_module("docs_webhooks_urls", "")
    urls.urlpatterns = [path("hooks/videogen/", views.videogen_hook)]
    settings.ROOT_URLCONF = "docs_webhooks_urls"
    settings.VIDEOGEN_HOOK_SECRET = SECRET
    cache.clear()
    yield
    for name in ("docs_webhooks_views", "docs_webhooks_urls"):
        sys.modules.pop(name, None)


def signed(event_id="msg_0001", secret=SECRET, body=None):
    body = body or json.dumps({"type": "video.failed", "timestamp": "2026-11-22T23:40:02.000Z",
                               "data": {"id": "75cb69d9", "status": "failed"}}).encode()
    stamp = int(time.time())
    return body, {"webhook-id": event_id, "webhook-timestamp": str(stamp),
                  "webhook-signature": signing.signature_header([secret], event_id, stamp, body)}


def post(client, body, headers):
    return client.post("/hooks/videogen/", body, content_type="application/json",
                       headers=headers)


def test_a_signed_event_is_handled_once_however_often_it_is_retried(client, caplog):
    caplog.set_level(logging.INFO, logger="docs_webhooks_views")
    body, headers = signed()
    assert post(client, body, headers).status_code == 204
    assert post(client, *signed()).status_code == 204  # a retry: same id, fresh signature
    assert [r.getMessage() for r in caplog.records] == ["videogen video.failed for job 75cb69d9"]


def test_forged_or_tampered_requests_are_refused(client, caplog):
    caplog.set_level(logging.INFO, logger="docs_webhooks_views")
    body, headers = signed()
    assert post(client, body.replace(b"failed", b"done!!"), headers).status_code == 400
    assert post(client, *signed(secret=signing.generate_secret())).status_code == 400
    assert post(client, body, {}).status_code == 400
    assert client.get("/hooks/videogen/").status_code == 405
    assert not [r for r in caplog.records if r.name == "docs_webhooks_views"]
