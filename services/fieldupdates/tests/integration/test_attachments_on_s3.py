"""Attachments through the API with JOBSTREAM_OBJECT_STORE=s3 (moto's S3 server, a process)."""

import hashlib
import uuid

import pytest

from jobstream.objectstore import ObjectStoreSettings, object_store_from_settings
from jobstream.testing.s3_server import moto_s3_server

from .harness import dispatched, office, tech

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3_server() as url:
        yield url


async def test_a_photo_round_trips_through_the_s3_backend_with_its_checksum(
    field, s3_endpoint, monkeypatch
):
    for name, value in {
        "JOBSTREAM_OBJECT_STORE": "s3",
        "JOBSTREAM_S3_BUCKET": f"field-{uuid.uuid4().hex[:8]}",
        "JOBSTREAM_S3_ENDPOINT_URL": s3_endpoint,
        "JOBSTREAM_S3_ACCESS_KEY_ID": "testing",
        "JOBSTREAM_S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    store = object_store_from_settings(ObjectStoreSettings())
    await store.ensure_bucket()  # type: ignore[attr-defined]
    field.client._transport.app.state.object_store = store  # type: ignore[attr-defined]

    job = dispatched("t-ann")
    await field.deliver(job)
    wo = job.work_order_id
    data = b"\xff\xd8\xff" + uuid.uuid4().bytes * 1000
    digest = hashlib.sha256(data).hexdigest()
    put = await field.client.put(
        f"/jobs/{wo}/attachments/ph-1",
        params={"kind": "photo", "caption": "Data plate"},
        content=data,
        headers={**tech("t-ann"), "Content-Type": "image/jpeg", "X-Content-SHA256": digest},
    )
    assert put.status_code == 201, put.text
    assert await store.exists(f"attachments/{wo}/ph-1")
    got = await field.client.get(f"/jobs/{wo}/attachments/ph-1", headers=office())
    assert got.status_code == 200
    assert got.content == data and got.headers["X-Content-SHA256"] == digest
