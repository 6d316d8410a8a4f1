"""No request to a third-party host unless staff ask (issue #19, 15): an image URL on another
host is a link and a "Show preview" button, never an <img src> in the page."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.factories import make_job
from videogen.models import Status

from .conftest import png_base64

pytestmark = pytest.mark.django_db

FOREIGN = "https://img.tracker.example/cat.png"


def image_hosts(html):
    """The hosts the page's <img> elements load from (data: URIs have none)."""
    return {urlsplit(src).netloc for src in re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", html)
            if src.startswith(("http:", "https:", "//"))}


def page(client, job):
    return client.get(reverse("admin:videogen_videojob_change", args=[job.pk])).content.decode()


def test_a_draft_with_image_urls_loads_none_of_them(superuser_client):
    job = make_job(model="Wan-AI/wan2.7-i2v", width=None, height=None, fps=None,
                   resolution="720P", ratio="16:9",
                   media={"frame_images": [{"input_image": FOREIGN, "frame": "first"}],
                          "reference_images": ["https://other.example/ref.jpg"]})
    html = page(superuser_client, job)
    assert image_hosts(html) == set()
    assert f'data-vg-preview-src="{FOREIGN}"' in html
    assert 'href="https://other.example/ref.jpg" rel="noreferrer noopener"' in html
    assert html.count("data-vg-show-previews>") == 2  # the URL input and the URL list


def test_a_sent_job_shows_its_image_urls_as_links_too(superuser_client):
    job = make_job(Status.QUEUED, media={
        "frame_images": [{"input_image": FOREIGN, "frame": "first"}]})
    html = page(superuser_client, job)
    assert image_hosts(html) == set()
    assert "data-vg-show-previews>" in html and "img.tracker.example…/cat.png" in html


def test_images_on_this_site_and_base64_show_at_once(superuser_client, settings):
    settings.VIDEOGEN = {**getattr(settings, "VIDEOGEN", {}),
                         "WEBHOOKS": {"SITE_URL": "https://videos.example.org/"}}
    own = "https://videos.example.org/media/videogen/ref-1.png"
    job = make_job(model="Wan-AI/wan2.7-r2v", width=None, height=None, fps=None,
                   resolution="720P", ratio="16:9", media={"reference_images": [own]})
    html = page(superuser_client, job)
    assert image_hosts(html) == {"videos.example.org"}
    assert 'data-vg-show-previews hidden>' in html  # nothing foreign: the button waits
    sent = make_job(Status.QUEUED, media={
        "frame_images": [{"input_image": png_base64(), "frame": "first"}]})
    assert '<img src="data:image/png;base64,' in page(superuser_client, sent)
