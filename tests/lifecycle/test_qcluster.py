"""The same life with a real `manage.py qcluster` process doing the work."""


import pytest
from django.utils import timezone

from tests.processes import QCluster, cluster_env
from tests.servers import wait_for
from videogen.models import ArchiveStatus, Status, VideoJob
from videogen.schedules import enqueue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def qcluster(videogen_sandbox_settings, settings, tmp_path):
    env = cluster_env(sandbox_url=videogen_sandbox_settings.url,
                      api_key=videogen_sandbox_settings.api_key, media_root=tmp_path / "media")
    node = QCluster(env, tmp_path / "qcluster.log").start()
    yield node.process
    node.stop()
    print(node.log_tail())


def test_a_real_cluster_submits_polls_and_archives(qcluster, videogen_sandbox_settings):
    jobs = [VideoJob.objects.create(model="google/veo-2.0", prompt=f"cluster job {i}",
                                    seconds="1", width=1280, height=720, fps=8)
            for i in range(3)]
    for job in jobs:
        enqueue("submit_job", str(job.pk))
    ids = [job.pk for job in jobs]
    wait_for(lambda: VideoJob.objects.filter(pk__in=ids, status=Status.QUEUED).count() == 3,
             what="submission by the cluster")
    VideoJob.objects.filter(pk__in=ids).update(next_poll_at=timezone.now())
    enqueue("poll_due")
    wait_for(lambda: VideoJob.objects.filter(
        pk__in=ids, archive_status=ArchiveStatus.ARCHIVED).count() == 3,
        what="archiving by the cluster")
    for job in VideoJob.objects.filter(pk__in=ids):
        assert job.status == Status.COMPLETED and job.video_bytes > 0
        assert job.video.storage.exists(job.video.name)
    assert videogen_sandbox_settings.stats()["jobs_created"] == 3
