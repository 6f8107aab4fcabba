"""The s3 object store against a real S3-compatible server (moto's, as a local process)."""

import hashlib
import uuid

import pytest

from jobstream.objectstore import (
    ObjectNotFoundError,
    ObjectStoreSettings,
    object_store_from_settings,
)
from jobstream.objectstore.s3 import CorruptObjectError, S3ObjectStore
from jobstream.testing.s3_server import moto_s3_server


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3_server() as url:
        yield url


@pytest.fixture
async def store(s3_endpoint, monkeypatch):
    monkeypatch.setenv("JOBSTREAM_OBJECT_STORE", "s3")
    monkeypatch.setenv("JOBSTREAM_S3_BUCKET", f"test-{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("JOBSTREAM_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("JOBSTREAM_S3_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("JOBSTREAM_S3_SECRET_ACCESS_KEY", "testing")
    chosen = object_store_from_settings(ObjectStoreSettings())
    assert isinstance(chosen, S3ObjectStore)
    await chosen.ensure_bucket()
    return chosen


async def test_bytes_and_content_type_round_trip_with_their_checksum(store):
    data = bytes(range(256)) * 100
    stored = await store.put("attachments/wo-1/a1", data, "image/jpeg")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert await store.get("attachments/wo-1/a1") == (data, "image/jpeg")
    assert await store.exists("attachments/wo-1/a1")


async def test_putting_the_same_key_again_replaces_the_bytes(store):
    await store.put("k/1", b"first", "text/plain")
    await store.put("k/1", b"second", "text/plain")
    assert await store.get("k/1") == (b"second", "text/plain")


async def test_a_missing_key_is_not_found(store):
    assert not await store.exists("attachments/none")
    with pytest.raises(ObjectNotFoundError):
        await store.get("attachments/none")


async def test_bytes_that_no_longer_match_their_checksum_are_refused_on_read(store):
    await store.put("k/bad", b"original", "text/plain")
    # Overwrite behind the store's back, keeping the old recorded checksum.
    async with store._client() as client:
        await client.put_object(
            Bucket=store.bucket,
            Key="k/bad",
            Body=b"tampered",
            Metadata={"sha256": hashlib.sha256(b"original").hexdigest()},
        )
    with pytest.raises(CorruptObjectError):
        await store.get("k/bad")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", ""])
async def test_keys_that_could_escape_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid object key"):
        await store.put(key, b"x", "text/plain")


def test_the_s3_backend_needs_a_bucket(monkeypatch):
    monkeypatch.setenv("JOBSTREAM_OBJECT_STORE", "s3")
    monkeypatch.delenv("JOBSTREAM_S3_BUCKET", raising=False)
    with pytest.raises(ValueError, match="bucket"):
        object_store_from_settings(ObjectStoreSettings())
