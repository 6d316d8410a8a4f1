"""The Python blocks of docs/: every one compiles and uses no name it does not import, except
the reader's own objects listed below; the admin snippets of docs/admin.md run against the real
admin. (docs/embedding.md's `proof` blocks run in tests/embedding/test_fresh_project.py, the
webhook receiver in tests/webhooks/test_docs_receiver.py, docs/sandbox.md's example test in
tests/sandbox/test_docs_example.py.)"""

import importlib
import json
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import clear_url_caches, resolve

from videogen.admin import VideoJobAdmin
from videogen.models import VideoJob

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)
TESTED = "<!-- tested: tests/embedding/test_docs_snippets.py -->"
RUFF = Path(sys.executable).with_name("ruff")

# Names a block may use without defining them: what the page says comes from the reader's
# settings.py / urls.py (the block is appended there) or is the reader's own object.
READERS_OWN = {
    "embedding.md": {"INSTALLED_APPS", "BASE_DIR", "VIDEOGEN", "STORAGES", "urlpatterns",
                     "product"},
    "api.md": {"request", "article", "form"},
    "sandbox.md": {"sb"},
    "webhooks.md": {"request_body_bytes", "request_headers"},
}


def blocks():
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield page, line, textwrap.dedent(match.group(2))


def test_every_python_block_compiles_and_imports_what_it_uses(tmp_path):
    files = {}
    for page, line, code in blocks():
        compile(code, f"{page.name}:{line}", "exec", flags=0x2000)  # top-level await allowed
        path = tmp_path / f"{page.stem}_{line}.py"
        path.write_text(code)
        files[path.name] = page.name
    assert len(files) >= 20
    found = subprocess.run(
        [str(RUFF), "check", "--isolated", "--select", "F821", "--output-format", "json",
         str(tmp_path)], capture_output=True, text=True).stdout
    undefined = [(Path(d["filename"]).name, re.search(r"`(.+)`", d["message"]).group(1))
                 for d in json.loads(found)]
    unexpected = [f"{name} in {file}" for file, name in undefined
                  if name not in READERS_OWN.get(files[file], set())]
    assert unexpected == []


def snippets_marked(page):
    text = (DOCS / page).read_text()
    return re.findall(re.escape(TESTED) + r"\s*```python\n(.*?)```", text, re.S)


def reload_urls():
    """The site's urls.py built its admin patterns at import: build them again."""
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def restore_admin():
    registered = dict(admin.site._registry)
    yield
    admin.site._registry.clear()
    admin.site._registry.update(registered)
    reload_urls()


def test_the_admin_subclass_snippet_replaces_the_jobs_admin(restore_admin, admin_client):
    subclass, _inline = snippets_marked("admin.md")
    exec(compile(subclass, "docs/admin.md", "exec"), {"__name__": "yourapp.admin"})
    reload_urls()
    site_admin = admin.site._registry[VideoJob]
    assert isinstance(site_admin, VideoJobAdmin) and type(site_admin) is not VideoJobAdmin
    url = "/admin/videogen/videojob/"
    assert resolve(url).func.model_admin is site_admin
    assert admin_client.get(url + "?q=kettle").status_code == 200
    assert site_admin.list_per_page == 100


def test_the_inline_snippet_lists_a_models_jobs_on_its_page(restore_admin, admin_client,
                                                           monkeypatch):
    _subclass, inline = snippets_marked("admin.md")
    # "Product" is any model of the site's: here ContentType, which has no admin of its own.
    shop = types.ModuleType("shop.models")
    shop.Product = ContentType
    monkeypatch.setitem(sys.modules, "shop", types.ModuleType("shop"))
    monkeypatch.setitem(sys.modules, "shop.models", shop)
    exec(compile(inline, "docs/admin.md", "exec"), {"__name__": "shop.admin"})
    reload_urls()
    product = ContentType.objects.get_for_model(VideoJob)
    VideoJob.objects.create(model="google/veo-2.0", prompt="a kettle, slowly rotating",
                            content_type=ContentType.objects.get_for_model(product),
                            object_id=str(product.pk))
    page = admin_client.get(f"/admin/contenttypes/contenttype/{product.pk}/change/")
    assert page.status_code == 200
    assert "a kettle, slowly rotating" in page.content.decode()
