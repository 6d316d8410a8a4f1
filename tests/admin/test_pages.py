"""The change page, the dashboard and the app index: what staff see, in plain words, without
secrets; templates a host site can override."""

import warnings
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_job
from videogen import dashboard
from videogen.models import JobEvent, Status
from videogen.webhooks.endpoints import create_endpoint
from videogen.webhooks.models import WebhookDelivery, WebhookEvent

from .conftest import change_page

pytestmark = pytest.mark.django_db



def test_pages_render(superuser_client):
    draft = make_job()
    done = make_job(Status.COMPLETED)
    for url in [reverse("admin:videogen_videojob_changelist"),
                reverse("admin:videogen_videojob_add"),
                reverse("admin:videogen_videojob_change", args=[draft.pk]),
                reverse("admin:videogen_videojob_change", args=[done.pk]),
                reverse("admin:videogen_videojob_dashboard"),
                reverse("admin:videogen_jobevent_changelist"),
                reverse("admin:app_list", args=["videogen"])]:
        assert superuser_client.get(url).status_code == 200, url


def test_archived_job_has_player_download_and_metadata(superuser_client):
    job = make_job(Status.COMPLETED, video="videogen/2026/11/v.mp4",
                   poster="videogen/2026/11/v-poster.jpg", video_container="mp4",
                   video_codec="h264", video_duration=5.0, video_width=360, video_height=360,
                   video_fps=16, video_bytes=30_720, video_sha256="ab" * 32,
                   last_response={"id": "r1", "status": "completed",
                                  "outputs": {"cost": 0.3, "video_url": "https://x/shrt/t"}})
    html = change_page(superuser_client, job)
    assert '<video class="vg-video" controls' in html
    assert 'poster="/media/videogen/2026/11/v-poster.jpg"' in html
    assert '<source src="/media/videogen/2026/11/v.mp4" type="video/mp4">' in html
    download = f"/admin/videogen/videojob/{job.pk}/download/"
    assert f'href="{download}" download="pixverse-v5-a-red-fox.mp4"' in html
    assert "360 × 360, 16 fps" in html and "30.0\xa0KB, MP4" in html and "h264" in html
    assert "ab" * 32 in html
    assert "&quot;status&quot;: &quot;completed&quot;" in html  # pretty JSON, escaped
    assert "Request as sent" in html and "Last provider response" in html


def test_video_and_audio_inputs_are_listed_as_links(superuser_client):
    # Django 6.0 refuses format_html() without arguments: this page was a 500 there (and a
    # deprecation warning on 5.2, an error here so the 5.2 run catches the next one too).
    job = make_job(Status.COMPLETED, model="Wan-AI/wan2.7-r2v", media={
        "reference_videos": [{"video": "https://v.example.com/a.mp4"},
                             {"video": "https://v.example.com/<b>.mp4"}],
        "audio_inputs": [{"audio": "https://a.example.com/voice.wav"}]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        html = change_page(superuser_client, job)
    assert ('reference_videos: <a href="https://v.example.com/a.mp4" rel="noreferrer">'
            "https://v.example.com/a.mp4</a><br>reference_videos: ") in html
    assert "https://v.example.com/&lt;b&gt;.mp4</a><br>audio_inputs: " in html


def test_failed_job_shows_the_error_plainly(superuser_client):
    job = make_job(Status.FAILED, error_code="generation_failed",
                   error_message="NSFW content detected")
    html = change_page(superuser_client, job)
    assert "This job failed." in html and "NSFW content detected" in html
    assert "generation_failed" in html and "Traceback" not in html


def test_uncertain_submission_explains_what_to_do(superuser_client):
    job = make_job(Status.SUBMITTING, error_code="outcome_unknown",
                   error_message="The provider may or may not have received this job.")
    html = change_page(superuser_client, job)
    assert "We do not know whether the provider received this job." in html
    assert "Mark uncertain submission failed" in html  # the button


def test_timeline_and_webhook_deliveries(superuser_client):
    job = make_job(Status.QUEUED)
    JobEvent.objects.create(job=job, old_status="draft", new_status="submitting",
                            detail="Sending to the provider.", actor=superuser_client.user)
    endpoint, secret = create_endpoint("http://127.0.0.1:9/hook")
    event = WebhookEvent.objects.create(id="msg_1", type="video.submitted", job=job,
                                        payload={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint,
                                              status="succeeded", attempts=1,
                                              last_status_code=200)
    html = change_page(superuser_client, job)
    assert "Draft → Submitting" in html and "Sending to the provider." in html
    assert "by admin" in html
    assert "video.submitted" in html and "Delivered" in html
    assert reverse("admin:videogen_webhookdelivery_change", args=[delivery.pk]) in html
    assert secret not in html


def test_no_secret_on_any_page(superuser_client, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "API_KEY": "sk-very-secret-key"}
    endpoint, secret = create_endpoint("http://127.0.0.1:9/hook")
    job = make_job(Status.COMPLETED)
    urls = [reverse("admin:videogen_videojob_changelist"), reverse("admin:videogen_videojob_add"),
            reverse("admin:videogen_videojob_change", args=[job.pk]),
            reverse("admin:videogen_videojob_dashboard"),
            reverse("admin:videogen_videojob_progress_one", args=[job.pk])]
    for url in urls:
        body = superuser_client.get(url).content.decode()
        assert "sk-very-secret-key" not in body and secret not in body, url


def test_bad_ids_never_500(superuser_client):
    for url in ["/admin/videogen/videojob/not-a-uuid/change/",
                "/admin/videogen/videojob/00000000-0000-0000-0000-000000000000/change/"]:
        assert superuser_client.get(url).status_code in (302, 404)


def test_in_flight_page_refreshes_itself(superuser_client):
    job = make_job(Status.IN_PROGRESS)
    html = change_page(superuser_client, job)
    assert f'data-vg-status-url="/admin/videogen/videojob/{job.pk}/progress/"' in html
    assert "data-vg-watch" in html and "progress.js" in html
    assert '<noscript><meta http-equiv="refresh"' in html
    done = make_job(Status.COMPLETED)
    assert "data-vg-watch" not in change_page(superuser_client, done)


def test_host_site_can_override_a_part(superuser_client, settings, tmp_path):
    folder = tmp_path / "templates" / "admin" / "videogen" / "videojob" / "includes"
    folder.mkdir(parents=True)
    (folder / "timeline.html").write_text("<p>our own timeline</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "templates"]}]
    html = change_page(superuser_client, make_job(Status.QUEUED))
    assert "our own timeline" in html


def test_app_index_links_the_dashboard(superuser_client):
    html = superuser_client.get(reverse("admin:app_list", args=["videogen"])).content.decode()
    assert reverse("admin:videogen_videojob_dashboard") in html


# --- Dashboard ----------------------------------------------------------------------------------


def finished(model, seconds, status=Status.COMPLETED, cost="0.10", days_ago=0):
    sent = timezone.now() - timedelta(days=days_ago, seconds=seconds + 5)
    return make_job(status, model=model, submitted_at=sent,
                    finished_at=sent + timedelta(seconds=seconds), cost=cost)


def test_dashboard_figures():
    for seconds in range(10, 110, 5):  # 20 veo jobs: 10 … 105 s
        finished("google/veo-2.0", seconds)
    finished("google/veo-2.0", 60, Status.FAILED, cost=None)
    finished("pixverse/pixverse-v5", 30, cost="0.28", days_ago=3)
    finished("pixverse/pixverse-v5", 30, Status.FAILED, cost=None)
    make_job(Status.IN_PROGRESS)
    board = dashboard.build()
    veo = next(m for m in board.models if m.model == "google/veo-2.0")
    assert veo.median == pytest.approx(57.5, abs=0.01)
    assert veo.p95 == pytest.approx(100, abs=0.01)  # nearest rank: the 19th of 20
    assert veo.failure_rate == pytest.approx(1 / 21)
    assert veo.spend == Decimal("2.00")
    pix = next(m for m in board.models if m.model == "pixverse/pixverse-v5")
    assert pix.failure_rate == 0.5 and pix.label == "PixVerse v5"
    assert board.in_flight == 1
    assert board.total_spend == Decimal("2.28")
    assert len(board.spend_by_day) == 31
    assert board.spend_by_day[-4][1] == Decimal("0.28")
    counts = {status: count for status, _label, count in board.by_status}
    assert counts == {"draft": 0, "submitting": 0, "queued": 0, "in_progress": 1,
                      "completed": 21, "failed": 2, "cancelled": 0}


def test_dashboard_page_draws_svg_with_constant_queries(superuser_client,
                                                        django_assert_num_queries):
    url = reverse("admin:videogen_videojob_dashboard")
    for seconds in (30, 40, 50):
        finished("google/veo-2.0", seconds)
    finished("pixverse/pixverse-v5", 20, Status.FAILED, cost=None)
    # session, user, then five aggregates whatever the number of jobs
    with django_assert_num_queries(7):
        html = superuser_client.get(url).content.decode()
    assert html.count('<svg class="vg-chart"') == 5
    assert "Google Veo 2.0" in html and "0:40 / 0:50" in html
    assert 'class="vg-chart-bar vg-fill-completed"' in html
    for _ in range(20):
        finished("kwaivgI/kling-2.1-pro", 100)
    with django_assert_num_queries(7):
        superuser_client.get(url)


def test_dashboard_money_is_shown_as_on_the_job_pages(superuser_client):
    """One money format everywhere: sub-cent costs keep their digits (not "$0.00")."""
    finished("pixverse/pixverse-v5", 30, cost="0.0045")
    html = superuser_client.get(reverse("admin:videogen_videojob_dashboard")).content.decode()
    assert ">$0.0045<" in html  # the total
    assert "PixVerse v5: $0.0045" in html  # the bar's tooltip


def test_dashboard_when_empty(superuser_client):
    html = superuser_client.get(reverse("admin:videogen_videojob_dashboard")).content.decode()
    assert "nothing in the last 30 days" in html


def test_dashboard_needs_view_permission(staff_client):
    client = staff_client()
    assert client.get(reverse("admin:videogen_videojob_dashboard")).status_code == 403


@pytest.mark.parametrize(("amount", "shown"), [
    ("0.28", "$0.28"), ("0.0045", "$0.0045"), ("3", "$3.00"), ("1234.5", "$1,234.50"),
    ("1234567.891", "$1,234,567.891")])
def test_money_keeps_sub_cent_digits_and_groups_thousands(amount, shown):
    from videogen.progress import money

    assert money(Decimal(amount)) == shown
