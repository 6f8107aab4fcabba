"""The local object store: round trip with checksum, missing keys, unsafe keys."""

import hashlib

import pytest

from jobstream.objectstore import LocalObjectStore, ObjectNotFoundError


async def test_bytes_and_content_type_round_trip_with_their_checksum(tmp_path):
    store = LocalObjectStore(tmp_path)
    data = bytes(range(256)) * 10
    stored = await store.put("attachments/a1", data, "image/jpeg")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert await store.get("attachments/a1") == (data, "image/jpeg")
    assert await store.exists("attachments/a1")


async def test_a_missing_key_is_not_found(tmp_path):
    store = LocalObjectStore(tmp_path)
    assert not await store.exists("attachments/none")
    with pytest.raises(ObjectNotFoundError):
        await store.get("attachments/none")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "", "a b"])
async def test_keys_that_could_escape_the_store_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="invalid object key"):
        await LocalObjectStore(tmp_path).put(key, b"x", "text/plain")
