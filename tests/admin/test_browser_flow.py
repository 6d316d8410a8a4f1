"""Issue #19 in a real browser (Chromium via Playwright, live server, the sandbox), on a
1280×800 desktop and a 375 px phone: a job sent is read-only at once and its badge moves in
place; a tab left open on the draft notices, and a late save there keeps what was typed; a
retry opens the new draft; people who may not submit are told what happens to their drafts.

The submit task is held back (as a busy worker would) so the page is seen before the job
leaves ``draft``; the test then runs it. Screenshots go to tests/artifacts/admin/.
"""

import pytest
from django.contrib.auth.models import Permission, User

from tests.enqueued import record_tasks
from videogen import submission, tasks
from videogen.models import Status, VideoJob

from .test_browser import (  # noqa: F401 (a fixture)
    browser_context,
    chromium,
    in_thread,
    poll_now,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 800}}
DRAFTER = ("view_videojob", "add_videojob", "change_videojob")


@pytest.fixture(params=list(SCREENS))
def screen(request):
    return request.param


@pytest.fixture
def browser(chromium, live_server, screen):
    """A browser context of the screen's size; ``browser.tab()`` opens a tab in it. Every tab
    must end without a JavaScript error."""
    with browser_context(chromium, SCREENS[screen]) as context:
        context.screen = screen
        yield context


@pytest.fixture
def held(monkeypatch):
    """Submit tasks wait here (a busy worker) instead of running inline."""
    return record_tasks(monkeypatch, "submit_job")


def run_held(held):
    for args in held.args("submit_job"):
        in_thread(tasks.submit_job, *args)
    held.calls.clear()


def user(username, *codenames, superuser=False):
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", "a-long-pw")
    person = User.objects.create_user(username, password="a-long-pw", is_staff=True)
    person.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return person


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/videogen/videojob/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/videogen/videojob/")


def change_url(live_server, job):
    return f"{live_server.url}/admin/videogen/videojob/{job.pk}/change/"


def fits(page):
    """Nothing wider than the screen (the phone must not scroll sideways)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (page.url, overflow)


def badge(page):
    return page.locator(".vg-job [data-vg-badge]")


def fill_form(page, prompt):
    page.select_option("#id_model", "pixverse/pixverse-v5")
    page.fill("#id_prompt", prompt)
    page.select_option("#id_size", "360x360")
    page.select_option("#id_seconds", "5")
    page.select_option("#id_fps", "16")


def test_save_and_submit_turns_into_the_read_only_page(browser, live_server, sandbox, held):
    sandbox.configure(time_scale=1)  # the test moves the job along with sandbox.advance
    user("editor", superuser=True)
    page = browser.tab()
    log_in(page, live_server, "editor")
    page.goto(f"{live_server.url}/admin/videogen/videojob/add/")
    fill_form(page, "A paper boat drifting on a calm lake at dawn")
    page.click("input[name=_submit]")

    # Queued for sending, the worker not there yet: already the read-only job page.
    page.wait_for_selector(".vg-job [data-vg-badge]")
    job = VideoJob.objects.get()
    assert job.status == Status.DRAFT and job.submit_requested_at is not None
    assert page.locator("#id_prompt, input[name=_continue], input[name=_submit]").count() == 0
    assert "queued for sending…" in page.text_content(".vg-job")
    assert "View video job" in page.content()
    fits(page)
    shot(page, f"flow-queued-for-sending-{browser.screen}")

    # The worker sends it; the badge moves in place (no reload), still no form.
    page.evaluate("window.vgSamePage = true")
    run_held(held)
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    page.wait_for_selector(".vg-job [data-vg-badge]:has-text('Queued')")
    sandbox.advance(job.remote_id, to="in_progress")
    poll_now(job)
    page.wait_for_selector(".vg-job [data-vg-badge]:has-text('In progress')")
    assert page.evaluate("window.vgSamePage === true")
    assert page.locator("#id_prompt, input[name=_continue]").count() == 0
    sandbox.advance(job.remote_id)
    poll_now(job)
    page.wait_for_selector(".vg-job [data-vg-badge]:has-text('Completed')", timeout=30_000)


def test_a_tab_left_open_on_the_draft(browser, live_server, sandbox, held):
    user("editor", superuser=True)
    job = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="the first words",
                                  width=360, height=360, seconds="5", fps=16)
    sender, typing, idle, refused = (browser.tab() for _ in range(4))
    log_in(sender, live_server, "editor")
    for page in (sender, typing, idle, refused):
        page.goto(change_url(live_server, job))
        page.wait_for_selector("#id_prompt")
    typing.fill("#id_prompt", "the better words I typed")
    refused.fill("#id_prompt", "y" * 2049)  # over the model's limit: comes back with an error
    refused.click("input[name=_continue]")
    refused.wait_for_selector(".errornote")

    sender.click("input[name=_submit]")
    sender.wait_for_selector(".vg-job [data-vg-badge]")
    assert sender.locator("#id_prompt").count() == 0

    # The untouched tab becomes the read-only page by itself.
    idle.wait_for_function("!document.querySelector('#id_prompt')")
    idle.wait_for_selector(".vg-job [data-vg-badge]")
    assert "queued for sending…" in idle.text_content(".vg-job")
    # The tab with typing keeps it on screen and says it cannot be saved there.
    typing.wait_for_selector("[data-vg-sent-notice]:visible")
    assert typing.input_value("#id_prompt") == "the better words I typed"
    assert "queued for sending…" in typing.text_content(".vg-job")
    # A form sent back with an error holds unsaved words too: it stays, and says so.
    refused.wait_for_selector("[data-vg-sent-notice]:visible")
    assert refused.input_value("#id_prompt") == "y" * 2049
    fits(typing)
    shot(typing, f"flow-stale-notice-{browser.screen}")

    # Saving anyway: a normal admin page, the message, and the words typed shown back.
    typing.click("input[name=_continue]")
    typing.wait_for_selector(".messagelist .error")
    message = typing.text_content(".messagelist")
    assert "This job was sent at" in message and "can no longer be edited" in message
    assert "Retry as a new draft to change it." in message
    assert typing.input_value("[data-vg-typed]") == "the better words I typed"
    assert typing.locator("[data-vg-typed]").get_attribute("readonly") is not None
    assert "403" not in typing.title()
    fits(typing)
    shot(typing, f"flow-late-save-{browser.screen}")
    job.refresh_from_db()
    assert job.prompt == "the first words"


def test_retry_opens_the_new_draft(browser, live_server, sandbox):
    user("editor", superuser=True)
    job = VideoJob.objects.create(model="minimax/hailuo-02", prompt="x")
    submission.submit(job)  # the catalog refuses a 1-character prompt: failed
    job.refresh_from_db()
    assert job.status == Status.FAILED
    page = browser.tab()
    log_in(page, live_server, "editor")
    page.goto(change_url(live_server, job))
    page.click("button[data-vg-op=retry]")

    new = VideoJob.objects.get(retry_of=job)
    page.wait_for_url(change_url(live_server, new))
    assert page.input_value("#id_prompt") == "x"  # ready to edit
    assert "Change what you need" in page.text_content(".messagelist")
    fits(page)
    shot(page, f"flow-retry-draft-{browser.screen}")
    page.click(".vg-note a")  # "A retry of …": back to the original
    page.wait_for_url(change_url(live_server, job))
    history = page.text_content(".vg-timeline")
    assert f"Retried as {new.pk}." in history
    page.click(".vg-timeline a.vg-retry-link")
    page.wait_for_url(change_url(live_server, new))


def test_a_person_who_may_not_submit(browser, live_server, sandbox):
    user("drafter", *DRAFTER)
    user("editor", superuser=True)
    page = browser.tab()
    log_in(page, live_server, "drafter")
    page.goto(f"{live_server.url}/admin/videogen/videojob/add/")
    intro = page.text_content(".vg-intro")
    assert "Save and submit" not in intro and "someone who may submit will send it" in intro
    assert page.locator("input[name=_submit]").count() == 0
    assert page.is_visible("text=Save the draft; someone who may submit will send it.")
    fill_form(page, "A lighthouse in a storm, drone shot")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .info")
    assert "“Drafts waiting to be sent”" in page.text_content(".messagelist")
    fits(page)
    shot(page, f"flow-drafter-saved-{browser.screen}")

    # Someone who may submit finds it with the list filter.
    VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="already sent",
                            status=Status.QUEUED)
    other = browser.tab()
    other.context.clear_cookies()
    log_in(other, live_server, "editor")
    other.goto(f"{live_server.url}/admin/videogen/videojob/?sending=waiting")
    rows = other.locator("#result_list tbody tr")
    assert rows.count() == 1 and "A lighthouse in a storm" in rows.first.text_content()
    assert "Drafts waiting to be sent" in other.content()
    fits(other)
