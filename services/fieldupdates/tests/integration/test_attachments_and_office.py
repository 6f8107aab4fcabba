"""Attachments with checksums, signatures, the office's views and corrections, location."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobstream.fieldupdates.db.tables import events

from .harness import NOW, action, dispatched, office, tech, visit

pytestmark = pytest.mark.integration
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


async def on_site(field, technician="t-ann"):
    job = dispatched(technician)
    await field.deliver(job)
    for path in ("acknowledge", "travel", "arrive", "start"):
        assert (await field.act(job.work_order_id, path, technician)).status_code == 200
    return job.work_order_id


def put(field, wo, attachment_id, data, technician="t-ann", content_type="image/jpeg", **extra):
    params = extra.pop("params", {"kind": "photo"})
    return field.client.put(
        f"/jobs/{wo}/attachments/{attachment_id}",
        params=params,
        content=data,
        headers={**tech(technician), "Content-Type": content_type, **extra},
    )


async def test_an_attachment_round_trips_with_its_checksum(field):
    wo = await on_site(field)
    digest = hashlib.sha256(JPEG).hexdigest()
    stored = await put(field, wo, "ph-1", JPEG, **{"X-Content-SHA256": digest})
    assert stored.status_code == 201, stored.text
    assert stored.json()["sha256"] == digest and stored.json()["size_bytes"] == len(JPEG)
    for who in (tech("t-ann"), office()):
        got = await field.client.get(f"/jobs/{wo}/attachments/ph-1", headers=who)
        assert got.status_code == 200
        assert got.content == JPEG
        assert hashlib.sha256(got.content).hexdigest() == got.headers["X-Content-SHA256"] == digest
        assert got.headers["content-type"] == "image/jpeg"
    async with field.engine.connect() as conn:
        data = await conn.scalar(
            select(events.c.data).where(events.c.event_type == "AttachmentAdded")
        )
    assert data["sha256"] == digest
    assert not {"data", "content", "bytes"} & set(data)  # identity only, never the file


async def test_a_declared_checksum_that_does_not_match_is_refused_and_nothing_is_stored(field):
    wo = await on_site(field)
    response = await put(field, wo, "ph-2", JPEG, **{"X-Content-SHA256": "0" * 64})
    assert response.status_code == 422
    assert "checksum mismatch" in response.json()["detail"][0]["msg"]
    assert (
        await field.client.get(f"/jobs/{wo}/attachments/ph-2", headers=office())
    ).status_code == 404


async def test_uploading_the_same_file_again_is_harmless(field):
    wo = await on_site(field)
    assert (await put(field, wo, "ph-3", JPEG)).status_code == 201
    assert (await put(field, wo, "ph-3", JPEG)).status_code == 200
    assert (await put(field, wo, "ph-3", JPEG + b"x")).status_code == 409
    view = (await field.client.get(f"/jobs/{wo}", headers=office())).json()
    assert len(view["attachments"]) == 1


async def test_content_types_and_sizes_are_limited(field):
    wo = await on_site(field)
    assert (await put(field, wo, "x1", b"<svg/>", content_type="image/svg+xml")).status_code == 415
    assert (await put(field, wo, "x2", b"")).status_code == 422
    field_app_settings = field.client._transport.app.state  # type: ignore[attr-defined]
    from jobstream.fieldupdates.config import FieldSettings

    field_app_settings.field_settings = FieldSettings(max_attachment_bytes=100)
    assert (await put(field, wo, "x3", JPEG)).status_code == 413


async def test_another_technician_cannot_upload_or_download(field):
    wo = await on_site(field)
    assert (await put(field, wo, "ph-9", JPEG, technician="t-bob")).status_code == 403
    await put(field, wo, "ph-8", JPEG)
    got = await field.client.get(f"/jobs/{wo}/attachments/ph-8", headers=tech("t-bob"))
    assert got.status_code == 403


async def test_a_signature_records_the_image_the_signer_and_the_time(field):
    wo = await on_site(field)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert (
        await put(field, wo, "sig-1", png, content_type="image/png", params={"kind": "signature"})
    ).status_code == 201
    signed_at = (NOW + timedelta(minutes=50)).isoformat()
    response = await field.act(
        wo,
        "signature",
        "t-ann",
        {"attachment_id": "sig-1", "signer_name": "Mrs Patel", "signed_at": signed_at},
    )
    assert response.status_code == 200, response.text
    [signature] = response.json()["job"]["signatures"]
    assert signature["signer_name"] == "Mrs Patel" and signature["attachment_id"] == "sig-1"
    missing = await field.act(
        wo, "signature", "t-ann", {"attachment_id": "sig-x", "signer_name": "X"}
    )
    assert missing.status_code == 409


async def test_parts_requests_are_visible_to_the_office_at_once(field):
    wo = await on_site(field)
    body = {
        "parts": [{"sku": "PUMP-1", "description": "Grundfos pump", "quantity_milli": 1000}],
        "note": "Urgent",
    }
    assert (await field.act(wo, "parts-requests", "t-ann", body)).status_code == 200
    [request] = (await field.client.get("/office/parts-requests", headers=office())).json()
    assert request["work_order_id"] == wo and request["parts"][0]["sku"] == "PUMP-1"
    forbidden = await field.client.get("/office/parts-requests", headers=tech("t-ann"))
    assert forbidden.status_code == 403


async def test_the_office_reopens_a_completed_job(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    await field.sync("t-ann", visit(wo))
    reopened = await field.client.post(
        f"/office/jobs/{wo}/reopen", json={"reason": "Leak is back"}, headers=office()
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "in_progress"
    again = await field.client.post(
        f"/office/jobs/{wo}/reopen", json={"reason": "x"}, headers=office()
    )
    assert again.status_code == 409
    done = await field.act(
        wo, "complete", "t-ann", {"work_done": "Resealed", "first_time_fix": False}
    )
    assert done.json()["job"]["completion"]["labour_minutes"] == 75


async def test_the_office_corrects_a_material(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    batch = visit(wo)
    await field.sync("t-ann", batch)
    entry = next(a["action_id"] for a in batch if a["type"] == "use_material")
    url = f"/office/jobs/{wo}/materials/{entry}/correction"
    fixed = await field.client.post(
        url, json={"quantity_milli": 0, "reason": "Returned to van"}, headers=office()
    )
    assert fixed.status_code == 200, fixed.text
    view = (await field.client.get(f"/jobs/{wo}", headers=office())).json()
    assert view["materials"][0]["quantity_milli_in_force"] == 0
    assert view["material_corrections"][0]["reason"] == "Returned to van"
    unknown = await field.client.post(
        f"/office/jobs/{wo}/materials/nope/correction",
        json={"quantity_milli": 1, "reason": "x"},
        headers=office(),
    )
    assert unknown.status_code == 409
    assert (
        await field.client.post(
            url, json={"quantity_milli": 1, "reason": "x"}, headers=tech("t-ann")
        )
    ).status_code == 403


async def test_a_note_carried_forward_appears_on_the_next_job_at_the_site(field):
    first = dispatched("t-ann")
    await field.deliver(first)
    await field.sync("t-ann", visit(first.work_order_id))
    second = dispatched("t-bob")
    await field.deliver(second)
    view = (await field.client.get(f"/jobs/{second.work_order_id}", headers=tech("t-bob"))).json()
    notes = view["job_pack"]["notes_carried_forward"]
    assert [n["text"] for n in notes] == ["Stopcock under the stairs"]


async def test_location_pings_are_rate_limited_per_technician(field):
    async def ping(technician, seconds):
        body = {
            "lat": 53.48,
            "lon": -2.24,
            "device_time": (NOW + timedelta(seconds=seconds)).isoformat(),
        }
        response = await field.client.post("/location", json=body, headers=tech(technician))
        assert response.status_code == 202
        return response.json()["kept"]

    assert [await ping("t-ann", s) for s in (0, 10, 29, 30, 45, 61)] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]
    assert await ping("t-bob", 5) is True
    async with field.engine.connect() as conn:
        located = await conn.scalar(
            select(events.c.event_type).where(events.c.stream_id == "location-t-ann").limit(1)
        )
    assert located == "TechnicianLocated"


async def test_a_late_photo_taken_before_completion_is_still_accepted(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    batch = visit(wo)
    await field.sync("t-ann", batch)
    taken = (NOW + timedelta(minutes=3)).isoformat()
    response = await put(field, wo, "late-1", JPEG, **{"X-Device-Time": taken})
    assert response.status_code == 201, response.text
    after = (NOW + timedelta(hours=5)).isoformat()
    refused = await put(field, wo, "late-2", JPEG, **{"X-Device-Time": after})
    assert refused.status_code == 409 and refused.json()["detail"]["kept"] is True
    sync_after = await field.sync(
        "t-ann", [action(wo, "add_note", 99, {"text": "after"}, minutes=300)]
    )
    assert sync_after.json()["rejected"] == 1
