"""Fixtures for the admin tests: users with exactly the permissions a test names, jobs in
every state, and small real images."""

import base64
import struct
import zlib

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

# Permissions a staff member needs to see the jobs at all.
VIEW = ["view_videojob"]


def png_bytes(width=8, height=8, rgb=(200, 40, 40)):
    """A valid PNG of one colour (no imaging library needed)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + \
        chunk(b"IEND", b"")


def png_base64(**kwargs):
    return base64.b64encode(png_bytes(**kwargs)).decode()


@pytest.fixture
def make_user(db):
    def make(*codenames, username="staff"):
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        return user

    return make


@pytest.fixture
def staff_client(client, make_user):
    """A logged-in client for a staff member with the given permissions."""
    def login(*codenames):
        user = make_user(*codenames)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    client.user = user
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def change_page(client, job) -> str:
    """The job's admin page as text (it must answer 200)."""
    response = client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    assert response.status_code == 200
    return response.content.decode()
