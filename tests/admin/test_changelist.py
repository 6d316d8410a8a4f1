"""The changelist: the same number of queries for 3 jobs or 60, filters, search, live rows."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_job
from videogen import progress
from videogen.models import ArchiveStatus, Status, VideoJob

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:videogen_videojob_changelist")
STATES = [Status.DRAFT, Status.SUBMITTING, Status.QUEUED, Status.IN_PROGRESS, Status.COMPLETED,
          Status.FAILED, Status.CANCELLED]


def make_jobs(count, owner=None):
    for n in range(count):
        status = STATES[n % len(STATES)]
        make_job(status, prompt=f"job number {n}", created_by=owner,
                 model=["pixverse/pixverse-v5", "google/veo-2.0", "acme/unknown"][n % 3],
                 poster="videogen/p.jpg" if status == Status.COMPLETED else "",
                 metadata={"campaign": f"c{n}"})


def count_queries(client, url=CHANGELIST):
    progress.observed_seconds()  # the medians' one query is test_exact_query_count's
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("query", ["", "?status__exact=in_progress", "?q=job",
                                   "?owner=me&archive_status__exact=archived",
                                   f"?created_at__year={timezone.now().year}"])
def test_queries_do_not_grow_with_the_page(superuser_client, query):
    make_jobs(3, owner=superuser_client.user)
    small, _ = count_queries(superuser_client, CHANGELIST + query)
    make_jobs(60, owner=superuser_client.user)
    large, response = count_queries(superuser_client, CHANGELIST + query)
    assert large == small
    assert len(response.context["cl"].result_list) > 3 or query


def test_exact_query_count(superuser_client, django_assert_num_queries):
    make_jobs(50, owner=superuser_client.user)
    # session, user, owner filter's staff list, COUNT, the page, date hierarchy (min/max, dates),
    # and the progress bars' observed durations per model (then kept for a minute)
    with django_assert_num_queries(8):
        superuser_client.get(CHANGELIST)
    with django_assert_num_queries(7):
        superuser_client.get(CHANGELIST)


def test_heavy_columns_are_not_loaded(superuser_client):
    make_job(media={"frame_images": [{"input_image": "A" * 50_000}]}, last_response={"x": 1})
    _, response = count_queries(superuser_client)
    job = response.context["cl"].result_list[0]
    assert {"media", "last_response", "metadata"} <= job.get_deferred_fields()


def test_row_shows_poster_badge_progress_cost_owner(superuser_client):
    done = make_job(Status.COMPLETED, poster="videogen/2026/11/x-poster.jpg", cost="0.0045",
                    created_by=superuser_client.user)
    running = make_job(Status.IN_PROGRESS, prompt="still going " * 20)
    html = superuser_client.get(CHANGELIST).content.decode()
    assert 'src="/media/videogen/2026/11/x-poster.jpg"' in html
    assert f'class="vg-badge vg-status-completed" data-vg-badge="{done.pk}"' in html
    assert f'data-vg-badge="{running.pk}" data-vg-moving' in html
    assert "$0.0045" in html and ">admin<" in html
    assert "of ~1:00" in html  # pixverse's typical minute
    assert "still going still going" in html and "…" in html
    assert 'data-vg-progress-many="' in html and "Dashboard" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("?status__exact=failed", {"failed one"}),
    ("?model=google/veo-2.0", {"veo one"}),
    ("?archive_status__exact=archived", {"done one"}),
    ("?owner=me", {"mine"}),
    ("?owner=none", {"failed one", "veo one", "done one"}),
])
def test_filters(superuser_client, query, expected):
    make_job(Status.FAILED, prompt="failed one")
    make_job(model="google/veo-2.0", prompt="veo one")
    make_job(Status.COMPLETED, prompt="done one")
    make_job(prompt="mine", created_by=superuser_client.user)
    response = superuser_client.get(CHANGELIST + query)
    assert {job.prompt for job in response.context["cl"].result_list} == expected


def test_search_prompt_remote_id_metadata_and_job_id(superuser_client):
    a = make_job(Status.QUEUED, prompt="a lighthouse", remote_id="019a-remote-xyz")
    b = make_job(prompt="a barn", metadata={"campaign": "harvest-2026"})
    c = make_job(prompt="a cat")
    for term, job in [("lighthouse", a), ("019a-remote", a), ("harvest-2026", b),
                      (str(c.pk), c)]:
        response = superuser_client.get(CHANGELIST, {"q": term})
        assert [j.pk for j in response.context["cl"].result_list] == [job.pk], term


def test_date_hierarchy(superuser_client):
    make_job()
    response = superuser_client.get(CHANGELIST)
    assert response.context["cl"].date_hierarchy == "created_at"
    assert "?created_at__" in response.content.decode()


def test_progress_endpoint_for_many_rows(superuser_client, django_assert_max_num_queries):
    jobs = [make_job(Status.IN_PROGRESS) for _ in range(5)]
    url = reverse("admin:videogen_videojob_progress")
    ids = [str(j.pk) for j in jobs] + ["nonsense", str(uuid.uuid4())]
    with django_assert_max_num_queries(4):  # session, user, the jobs, observed durations
        response = superuser_client.get(url, {"id": ids})
    data = response.json()["jobs"]
    assert {item["id"] for item in data} == {str(j.pk) for j in jobs}
    assert all(item["moving"] and item["status"] == "in_progress" for item in data)


def test_progress_endpoint_for_one_job(superuser_client):
    job = make_job(Status.FAILED, error_message="NSFW content detected")
    url = reverse("admin:videogen_videojob_progress_one", args=[job.pk])
    data = superuser_client.get(url).json()
    assert data["status"] == "failed" and data["error"] == "NSFW content detected"
    assert data["moving"] is False and data["status_label"] == "Failed"
    for bad in ["not-a-uuid", str(uuid.uuid4())]:
        response = superuser_client.get(reverse("admin:videogen_videojob_progress_one",
                                                args=[bad]))
        assert response.status_code == 404 and "error" in response.json()


def test_progress_endpoint_needs_view_permission(client, staff_client):
    job = make_job(Status.QUEUED)
    one = reverse("admin:videogen_videojob_progress_one", args=[job.pk])
    many = reverse("admin:videogen_videojob_progress")
    assert client.get(one).status_code == 302  # to the login page
    nobody = staff_client()  # staff, no permissions
    assert nobody.get(one).status_code == 404
    assert nobody.get(many, {"id": [str(job.pk)]}).status_code == 403


def test_archiving_counts_as_moving(superuser_client):
    job = make_job(Status.COMPLETED, archive_status=ArchiveStatus.ARCHIVING)
    url = reverse("admin:videogen_videojob_progress_one", args=[job.pk])
    data = superuser_client.get(url).json()
    assert data["moving"] is True and "archiving" in data["text"]
    assert VideoJob.objects.count() == 1
