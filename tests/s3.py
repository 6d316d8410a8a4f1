"""S3 for tests: moto's server on 127.0.0.1 behind a "videos" STORAGES alias (django-storages).

moto keeps its buckets for the whole process, so each test gets a bucket of its own. The ``s3``
and ``s3_archives`` fixtures in tests/conftest.py are built from :func:`moto_bucket`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test",
               "region_name": "us-east-1"}


@dataclass
class Bucket:
    """One test's bucket on the moto server, and what the tests ask of it."""

    endpoint: str
    name: str
    s3: Any  # a boto3 S3 client

    def put_object(self, **kwargs: Any) -> Any:
        return self.s3.put_object(Bucket=self.name, **kwargs)

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()

    def size(self, key: str) -> int:
        return self.s3.head_object(Bucket=self.name, Key=key)["ContentLength"]

    def listing(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.name)
        return sorted(entry["Key"] for entry in listing.get("Contents", []))

    def sha256(self, key: str) -> str:
        return hashlib.sha256(self.read(key)).hexdigest()


@contextmanager
def moto_bucket(settings: Any) -> Iterator[Bucket]:
    """STORAGES gets a "videos" alias on moto's S3 server; VIDEOGEN["STORAGE"] stays put."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = Bucket(endpoint, f"videos-{uuid.uuid4().hex[:12]}",
                    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS))
    bucket.s3.create_bucket(Bucket=bucket.name)
    settings.STORAGES = {**settings.STORAGES, "videos": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": bucket.name, "endpoint_url": endpoint,
                    "access_key": "test", "secret_key": "test", "region_name": "us-east-1",
                    "signature_version": "s3v4", "file_overwrite": True}}}  # its default
    try:
        yield bucket
    finally:
        server.stop()
