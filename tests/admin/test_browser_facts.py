"""The job page's facts in a real browser (issue #19): the cost appears and refreshes without a
reload, a portrait video fits the window with its controls, and Download saves a file with a
readable name, on a 1280x800 desktop and a 375 px phone. Same machinery as test_browser.py."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template

from videogen import submission
from videogen.models import Status, VideoJob
from videogen.progress import money

from .test_browser import (  # noqa: F401 (fixtures)
    browser_context,
    chromium,
    log_in,
    poll_now,
    shot,
    staff,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}
PROMPT = "A lighthouse keeper climbing the stairs at night"
NAME = "veo-2-0-a-lighthouse-keeper-climbing-the-stairs.mp4"  # 40 characters of prompt


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def screen(request):
    return request.param


@pytest.fixture
def page(chromium, live_server, screen):
    with browser_context(chromium, screen, accept_downloads=True, is_mobile=screen is PHONE,
                         has_touch=screen is PHONE) as context:
        yield context.tab()


def portrait_job(staff):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt=PROMPT, width=720,
                                  height=1280, seconds="1", fps=8, created_by=staff)
    submission.submit(job)
    return job


def video_box(page, selector="video.vg-video"):
    return page.evaluate("""selector => new Promise(resolve => {
        const video = document.querySelector(selector);
        const measure = () => {
            const box = video.getBoundingClientRect();
            resolve({top: box.top, bottom: box.bottom, width: box.width, height: box.height,
                     natural: video.videoWidth / video.videoHeight});
        };
        if (video.readyState >= 1) { measure(); }
        else { video.addEventListener('loadedmetadata', measure); video.load(); }
    })""", selector)


def test_cost_refreshes_and_a_portrait_video_fits_the_screen(page, live_server, sandbox, staff,
                                                             screen):
    sandbox.configure(time_scale=1)  # the test moves the job along with sandbox.advance
    job = portrait_job(staff)
    sandbox.advance(job.remote_id, to="in_progress")
    poll_now(job)
    log_in(page, live_server)

    # The list: the running row's cost fills in when the provider reports it, no reload.
    cost = f"[data-vg-cost='{job.pk}']"
    assert page.text_content(cost) == "—"
    page.evaluate("window.vgSamePage = true")
    sandbox.advance(job.remote_id)
    poll_now(job)
    assert job.status == Status.COMPLETED and job.cost is not None and job.video
    page.wait_for_function(f"document.querySelector(\"{cost}\").textContent !== '—'")
    assert page.text_content(cost) == money(job.cost)
    assert page.evaluate("window.vgSamePage === true")

    # The job page: a Cost row, and the player whole inside the window, aspect kept.
    page.goto(f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/")
    assert page.text_content(".vg-cost") == f"Cost: {money(job.cost)}"
    box = video_box(page)
    assert box["natural"] == pytest.approx(720 / 1280, rel=0.01)
    assert box["width"] / box["height"] == pytest.approx(720 / 1280, rel=0.02)
    assert box["height"] <= screen["height"] and box["width"] <= screen["width"]
    if screen is DESKTOP:
        assert box["bottom"] <= screen["height"], box  # controls above the fold, no scrolling
    else:
        page.evaluate("document.querySelector('video.vg-video').scrollIntoView({block: 'center'})")
        box = video_box(page)
        assert box["top"] >= 0 and box["bottom"] <= screen["height"], box
        assert box["width"] >= 250, box  # capped by the window, not shrunk for nothing
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    shot(page, f"change-portrait-{'desktop' if screen is DESKTOP else 'phone'}",
         full_page=False)

    # Download: a file saved under a readable name, the archived bytes.
    with page.expect_download() as caught:
        page.click("a.button:has-text('Download')")
    download = caught.value
    assert download.suggested_filename == NAME
    with open(download.path(), "rb") as saved, job.video.open("rb") as stored:
        assert saved.read() == stored.read()

    # The player tag on a host page, with the app's player.css and no inline style.
    for tag, fits in (("{% videogen_player job %}", True),
                      ("{% videogen_player job width=640 %}", False)):
        host_page(page, live_server, job, tag)
        box = video_box(page, "video.videogen-player")
        assert box["height"] <= screen["height"] * 0.9 + 1, (tag, box)
        assert box["width"] <= screen["width"], (tag, box)
        if fits:  # the box shrinks with the height; a given width stays (the picture fits)
            assert box["width"] / box["height"] == pytest.approx(720 / 1280, rel=0.02), box


def host_page(page, live_server, job, tag):
    css = Path(finders.find("videogen/player.css")).read_text()
    body = Template("{% load videogen %}" + tag).render(Context({"job": job}))
    page.set_content(f'<!DOCTYPE html><html><head><base href="{live_server.url}/">'
                     f'<meta name="viewport" content="width=device-width">'
                     f"<style>{css}</style></head><body>{body}</body></html>")



@pytest.mark.parametrize("screen", [DESKTOP], ids=["desktop"], indirect=True)
def test_download_from_s3_saves_a_named_file(page, live_server, sandbox, staff,
                                             s3_archives):
    job = portrait_job(staff)
    poll_now(job)  # the sandbox finishes it at once; archived into the bucket
    assert job.video and job.archive_status == "archived", job.archive_error
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/")
    assert video_box(page)["natural"] == pytest.approx(720 / 1280, rel=0.01)  # plays from S3
    with page.expect_download() as caught:
        page.click("a.button:has-text('Download')")
    download = caught.value
    assert download.url.startswith(s3_archives.endpoint) and "X-Amz-Signature" in download.url
    assert download.suggested_filename == NAME
    with open(download.path(), "rb") as saved, job.video.open("rb") as stored:
        assert saved.read() == stored.read()
