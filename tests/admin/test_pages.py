"""Every page renders for staff, without secrets, and bad input never gives a 500."""

import pytest
from django.urls import reverse

from videogen.models import Status

from .conftest import make_job

pytestmark = pytest.mark.django_db


def test_pages_render(superuser_client):
    draft = make_job()
    done = make_job(Status.COMPLETED)
    client = superuser_client
    for url in [reverse("admin:videogen_videojob_changelist"),
                reverse("admin:videogen_videojob_add"),
                reverse("admin:videogen_videojob_change", args=[draft.pk]),
                reverse("admin:videogen_videojob_change", args=[done.pk]),
                reverse("admin:videogen_videojob_dashboard"),
                reverse("admin:app_list", args=["videogen"])]:
        response = client.get(url)
        assert response.status_code == 200, url
