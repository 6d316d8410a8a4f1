"""The admin in a real browser (Debian's Chromium driven by Playwright) against a live server
and the sandbox provider: log in, create a job with a first-frame upload, submit it, watch its
status change without reloading by hand, play the archived video, cancel another job through
the confirmation page, open the dashboard; also dark mode and a phone-sized screen.

Screenshots go to tests/artifacts/admin/ (git-ignored). Without /usr/bin/chromium these tests
are skipped, except in CI (``CI`` set), where that is a failure.
"""

import os
import threading
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.utils import timezone

from videogen import polling, submission
from videogen.models import Status, VideoJob

from .conftest import png_bytes

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "admin"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium to run browser tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it lives; the
    # ORM calls made here between browser steps (and the database teardown) are ordinary
    # synchronous ones, so Django's async-safety check is told so.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=LAUNCH_ARGS)
    yield browser
    browser.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def browser_context(chromium, viewport, *, sidebar=False, **options):
    """A Chromium context at ``viewport`` (the admin's navigation sidebar closed unless asked,
    so screenshots show the page itself); ``context.tab()`` opens a page in it. On leaving,
    no tab may have had a JavaScript error."""
    context = chromium.new_context(viewport=viewport, **options)
    context.add_init_script(
        f"localStorage.setItem('django.admin.navSidebarIsOpen', '{str(sidebar).lower()}')")
    errors = []

    def tab():
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    context.tab = tab
    try:
        yield context
    finally:
        context.close()
    assert errors == [], errors


@pytest.fixture
def page(chromium, live_server):
    with browser_context(chromium, {"width": 1100, "height": 860}) as context:
        yield context.tab()


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("editor", "editor@example.com", "a-long-password")


def shot(page, name, full_page=True):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/videogen/videojob/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "a-long-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/videogen/videojob/")


def in_thread(function, *args):
    """Run ``function`` in a thread of its own: the poller runs its own asyncio loop, which
    cannot start inside Playwright's."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def poll_now(job):
    in_thread(lambda: polling.poll_jobs([VideoJob.objects.get(pk=job.pk)]))
    job.refresh_from_db()


def seed_history(days=30):
    """A month of finished jobs for the dashboard to draw (rows written directly: the
    dashboard only reads them)."""
    now = timezone.now()
    models = {"google/veo-3.0": (120, "0.80"), "pixverse/pixverse-v5": (60, "0.30"),
              "minimax/hailuo-02": (240, "0.49"), "ByteDance/Seedance-1.0-lite": (60, "0.18")}
    rows = []
    for n in range(160):
        model = list(models)[n % len(models)]
        typical, cost = models[model]
        sent = now - timedelta(days=(n * 7) % days, hours=n % 11)
        failed = n % 9 == 0
        took = typical * (0.6 + (n * 37 % 80) / 100)
        rows.append(VideoJob(
            model=model, prompt=f"sample {n}", status="failed" if failed else "completed",
            submitted_at=sent, finished_at=sent + timedelta(seconds=took),
            cost=None if failed else Decimal(cost)))
    VideoJob.objects.bulk_create(rows)
    for job in rows:  # created_at is set on insert; spread it like the submissions
        VideoJob.objects.filter(pk=job.pk).update(created_at=job.submitted_at)


def test_create_submit_watch_and_play(page, live_server, sandbox, staff, tmp_path):
    image = tmp_path / "first.png"
    image.write_bytes(png_bytes(width=64, height=64, rgb=(30, 120, 200)))
    sandbox.configure(time_scale=1)  # the test moves the job along with sandbox.advance
    log_in(page, live_server)
    page.click("text=Add video job")

    # The form follows the model: its capability line, its sizes and durations only.
    page.select_option("#id_model", "pixverse/pixverse-v5")
    assert "first and last frame" in page.text_content("[data-vg-model-summary]")
    assert page.locator("#id_size option[value='1366x768']").is_disabled()
    page.fill("#id_prompt", "A paper boat drifting on a calm lake at dawn")
    page.select_option("#id_size", "360x360")
    page.select_option("#id_seconds", "5")
    page.select_option("#id_fps", "16")
    page.set_input_files("#id_first_frame_file", str(image))
    page.wait_for_selector(".field-first_frame_file .vg-previews img")  # thumbnail
    shot(page, "form")
    page.click("input[name=_submit]")

    # Submitted (django-q2 runs the task inline here): the page shows it queued and watches.
    page.wait_for_selector(".vg-job [data-vg-badge]:has-text('Queued')")
    job = VideoJob.objects.get()
    assert job.status == Status.QUEUED and job.media["frame_images"][0]["frame"] == "first"
    page.evaluate("window.vgSamePage = true")
    sandbox.advance(job.remote_id, to="in_progress")
    poll_now(job)
    page.wait_for_selector(".vg-job [data-vg-badge]:has-text('In progress')")
    assert page.evaluate("window.vgSamePage === true")  # updated in place, not reloaded
    shot(page, "change-in-progress")

    # Finished and archived: the page reloads itself once and shows the player.
    sandbox.advance(job.remote_id)
    poll_now(job)
    assert job.status == Status.COMPLETED and job.video
    page.wait_for_selector("video.vg-video", timeout=30_000)
    duration = page.evaluate("""() => new Promise(resolve => {
        const video = document.querySelector('video.vg-video');
        if (video.readyState >= 1) { resolve(video.duration); }
        video.addEventListener('loadedmetadata', () => resolve(video.duration));
        video.load();
    })""")
    assert abs(duration - 5) < 0.6
    assert page.locator(".vg-job [data-vg-badge]").text_content() == "Completed"
    assert job.video_sha256 in page.content()
    shot(page, "change", full_page=False)
    shot(page, "change-full")

    # The list: a running job's row refreshes itself; the others stay as they are.
    VideoJob.objects.create(model="google/veo-2.0", prompt="A lighthouse in a storm, drone shot",
                            created_by=staff)
    failed = VideoJob.objects.create(model="minimax/hailuo-02", prompt="x", created_by=staff)
    submission.submit(failed)  # the catalog refuses a 1-character prompt
    running = VideoJob.objects.create(model="kwaivgI/kling-2.1-pro", created_by=staff,
                                      prompt="Autumn leaves falling in a quiet park",
                                      width=1080, height=1080)
    submission.submit(running)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/admin/videogen/videojob/")
    page.wait_for_selector("img.vg-poster")
    row = f"[data-vg-progress='{running.pk}'] small"
    first = page.text_content(row)
    page.wait_for_function(f"document.querySelector(\"{row}\").textContent !== {first!r}",
                           timeout=15_000)
    shot(page, "changelist", full_page=False)


def test_cancel_through_the_confirmation_page(page, live_server, sandbox, staff):
    sandbox.configure(time_scale=1)  # stays queued for a while
    keep = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="keep this one",
                                   width=360, height=360)
    job = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="cancel this one",
                                  width=360, height=360)
    for each in (keep, job):
        submission.submit(each)
    log_in(page, live_server)
    page.check(f"input.action-select[value='{job.pk}']")
    page.select_option("select[name=action]", "cancel_jobs")
    page.click("button[name=index]")
    page.wait_for_selector("text=Are you sure?")
    assert "may still finish and be billed" in page.content()
    shot(page, "cancel-confirmation")
    page.click("input[type=submit][value='Yes, cancel']")
    page.wait_for_selector(".messagelist .success")
    assert "the provider may still finish and bill it" in page.text_content(".messagelist")
    job.refresh_from_db()
    keep.refresh_from_db()
    assert job.status == Status.CANCELLED and job.remote_may_finish
    assert keep.status == Status.QUEUED


def test_dashboard_dark_mode_and_a_narrow_screen(page, live_server, sandbox, staff):
    job = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="a dashboard sample",
                                  width=360, height=360, seconds="5", fps=16)
    submission.submit(job)
    poll_now(job)
    failed = VideoJob.objects.create(model="google/veo-2.0", prompt="")
    submission.submit(failed)  # refused by the catalog: no prompt
    seed_history()
    log_in(page, live_server)
    page.click("text=Dashboard")
    page.wait_for_selector("svg.vg-chart")
    assert page.locator("svg.vg-chart").count() == 5
    shot(page, "dashboard")

    page.emulate_media(color_scheme="dark")
    page.reload()
    text_colour = page.evaluate(
        "getComputedStyle(document.querySelector('.vg-chart text')).fill")
    assert text_colour != "rgb(51, 51, 51)"  # the light theme's --body-fg
    shot(page, "dashboard-dark")
    page.goto(f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/")
    shot(page, "change-dark", full_page=False)

    page.set_viewport_size({"width": 375, "height": 800})
    page.emulate_media(color_scheme="light")
    for path in ["videojob/", "videojob/add/", f"videojob/{job.pk}/change/",
                 f"videojob/{failed.pk}/change/", "videojob/dashboard/"]:
        page.goto(f"{live_server.url}/admin/videogen/{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    shot(page, "dashboard-narrow")
    page.goto(f"{live_server.url}/admin/videogen/videojob/{failed.pk}/change/")
    assert "google/veo-2.0 requires a prompt" in page.text_content(".vg-error")
