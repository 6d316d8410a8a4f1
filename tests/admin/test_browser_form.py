"""The job form in a real browser (issue #19, 14 and 15): only the chosen model's inputs are
shown (and sent), the hint line says everything, and an image on another host is fetched only
after "Show preview"."""

import pytest

from .test_browser import browser_context, chromium, log_in, page, shot, staff  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FOREIGN = "https://img.tracker.example/cat.png"


def test_the_form_follows_the_model_and_previews_only_on_request(page, live_server, staff):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server)
    asked = []
    page.on("request", lambda request: asked.append(request.url)
            if "tracker.example" in request.url else None)
    page.goto(f"{live_server.url}/admin/videogen/videojob/add/")
    summary = page.locator("[data-vg-model-summary]")

    page.select_option("#id_model", "Wan-AI/Wan2.2-T2V-A14B")
    assert "not documented by the provider" in summary.inner_text()
    for name in ("first_frame_url", "last_frame_file", "source_video_url", "audio_urls"):
        assert page.locator(f"#id_{name}").is_disabled(), name
        assert not page.locator(f"#id_{name}").is_visible(), name
    # Reference images: in the provider's docs for every model (sent with a warning).
    assert page.locator("#id_reference_urls").is_visible()

    page.select_option("#id_model", "Wan-AI/wan2.7-t2v")
    # Nothing in "Keyframes and reference images" for it: the whole section goes.
    assert not page.locator("h2:has-text('Keyframes and reference images')").is_visible()
    assert page.locator("#id_reference_urls").is_disabled()

    page.select_option("#id_model", "Wan-AI/wan2.7-r2v")
    assert page.locator("h2:has-text('Keyframes and reference images')").is_visible()
    assert summary.inner_text().startswith("2–10 s · ")
    assert "needs reference images or reference videos" in summary.inner_text()
    assert page.locator("#id_reference_urls").is_visible()
    assert not page.locator("#id_first_frame_url").is_visible()
    assert not page.locator("#id_size").is_visible() and page.locator("#id_ratio").is_visible()
    page.fill("#id_prompt", "the cat from the photo, dancing")
    assert page.locator(".vg-prompt-count").inner_text() == "31 of 5000 characters"

    page.fill("#id_reference_urls", FOREIGN)
    button = page.locator(".field-reference_urls [data-vg-show-previews]")
    assert button.is_visible()
    page.wait_for_timeout(300)
    assert asked == []  # typing a URL fetches nothing
    button.click()
    page.wait_for_selector(".field-reference_urls .vg-previews img")
    assert asked and asked[0] == FOREIGN
    shot(page, "form-r2v")


def test_the_job_page_header_and_the_list_fit(page, live_server, staff, chromium):
    from tests.factories import make_job
    from videogen.models import Status

    job = make_job(Status.COMPLETED, prompt="a lighthouse at dawn, waves below " * 3,
                   created_by=staff)
    make_job(Status.IN_PROGRESS, prompt="a paper boat on a pond", created_by=staff)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/")
    title = page.locator("#content h1").bounding_box()
    tools = page.locator(".object-tools li")
    boxes = [tools.nth(n).bounding_box() for n in range(tools.count())]
    assert len(boxes) >= 3
    assert all(box["y"] >= title["y"] + title["height"] for box in boxes)  # not beside it
    # History on the same line as the buttons (wrapping lines aside): same height, aligned.
    last_line = [box for box in boxes if abs(box["y"] - boxes[-1]["y"]) < 4]
    assert len({round(box["height"]) for box in last_line}) == 1, boxes
    shot(page, "job-header", full_page=False)

    # 1400 px with the navigation sidebar open: the Created column is not cut off.
    with browser_context(chromium, {"width": 1400, "height": 800}, sidebar=True) as context:
        wide = context.tab()
        log_in(wide, live_server)
        assert wide.locator("#nav-sidebar").is_visible()
        shot(wide, "list-1400-sidebar", full_page=False)
        results = wide.locator(".results")
        assert results.evaluate("e => e.scrollWidth <= e.clientWidth"), results.evaluate(
            "e => [e.scrollWidth, e.clientWidth]")


def test_a_job_archived_again_lets_go_of_its_old_files(page, live_server, staff, settings,
                                                       tmp_path):
    """"Archive again" replaces the files and deletes the old ones: the page must not keep
    asking for them (they were 404s in the console until the page reloaded)."""
    from django.core.files.base import ContentFile

    from tests.factories import make_job
    from videogen.models import ArchiveStatus, Status
    from videogen.storage import archive_storage

    name = archive_storage().save("videogen/words-old.mp4", ContentFile(b"\0" * 2048))
    job = make_job(Status.COMPLETED, video=name, video_container="mp4",
                   archive_status=ArchiveStatus.PENDING, created_by=staff)
    asked = []
    page.on("request", lambda request: asked.append(request.url)
            if "words-old" in request.url else None)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/")
    page.wait_for_selector(".vg-player--replacing")
    assert page.locator("video.vg-video source").count() == 0
    page.wait_for_timeout(500)
    assert asked == []
    archive_storage().delete(name)
