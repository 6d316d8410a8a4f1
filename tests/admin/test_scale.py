"""100,000 jobs on PostgreSQL: the changelist and the dashboard keep their query counts and
answer quickly (measured about 0.2–0.4 s each; the bound here is loose on purpose, to catch
a missing index or a per-row query, not to benchmark)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db]

JOBS = 100_000
BOUND_SECONDS = 3.0
# Rows written by SQL, not the ORM: 100k ORM inserts take half a minute.
INSERT = """
INSERT INTO videogen_videojob (
    id, remote_id, status, model, prompt, negative_prompt, seconds, output_format, resolution,
    ratio, media, error_code, error_message, provider_video_url, cost, remote_may_finish,
    archive_status,
    archive_error, archive_attempts, video, poster, video_codec, video_container, video_sha256,
    created_at, updated_at, submitted_at, finished_at, poll_attempts, poll_failures, metadata,
    object_id, created_by_id)
SELECT gen_random_uuid(),
       CASE WHEN n %% 12 = 0 THEN NULL ELSE 'remote-' || n END,
       (ARRAY['completed','completed','completed','completed','completed','completed',
              'completed','failed','cancelled','queued','in_progress','draft'])[n %% 12 + 1],
       (ARRAY['pixverse/pixverse-v5','google/veo-2.0','minimax/hailuo-02',
              'Wan-AI/wan2.7-t2v'])[n %% 4 + 1],
       'prompt number ' || n || ' about a fox', '', '5', '', '', '', '{}', '', '', '',
       CASE WHEN n %% 12 < 7 THEN 0.28 END, false,
       CASE WHEN n %% 12 < 7 THEN 'archived' ELSE '' END, '', 0, '', '', '', '', '',
       now() - n * interval '36 seconds', now(), now() - n * interval '36 seconds',
       now() - n * interval '36 seconds' + (30 + n %% 270) * interval '1 second',
       0, 0, json_build_object('n', n), '', CASE WHEN n %% 3 = 0 THEN %s END
FROM generate_series(1, %s) AS n
"""


@pytest.fixture
def many_jobs(superuser_client):
    if connection.vendor != "postgresql":
        pytest.skip("the scale check runs on PostgreSQL (DATABASE_URL=postgres://…)")
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [superuser_client.user.pk, JOBS])
        cursor.execute("ANALYZE videogen_videojob")
    return superuser_client


@pytest.mark.parametrize("query", ["", "?status__exact=failed", "?q=fox+4242",
                                   "?owner=me&model=google/veo-2.0", "?p=400"])
def test_changelist_with_100k_jobs(many_jobs, query):
    url = reverse("admin:videogen_videojob_changelist") + query
    many_jobs.get(url)  # warm caches
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        response = many_jobs.get(url)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert len(queries) <= 7, [q["sql"][:120] for q in queries]
    assert elapsed < BOUND_SECONDS, f"{url} took {elapsed:.2f} s"


def test_dashboard_with_100k_jobs(many_jobs):
    url = reverse("admin:videogen_videojob_dashboard")
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        response = many_jobs.get(url)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.content.count(b"<svg class=\"vg-chart\"") == 5
    assert len(queries) == 7
    assert elapsed < BOUND_SECONDS, f"dashboard took {elapsed:.2f} s"


def test_progress_medians_with_100k_jobs(many_jobs):
    """The progress bars' medians per model: one query over the month's completed jobs, run
    once a minute per process (the changelist above reuses it)."""
    from videogen import progress

    progress.forget_observed()
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        medians = progress.observed_seconds()
    elapsed = time.monotonic() - started
    assert len(queries) == 1
    assert set(medians) == {"pixverse/pixverse-v5", "google/veo-2.0", "minimax/hailuo-02",
                            "Wan-AI/wan2.7-t2v"}
    assert elapsed < BOUND_SECONDS, f"the medians took {elapsed:.2f} s"
