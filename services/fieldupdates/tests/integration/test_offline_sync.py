"""Offline sync over real PostgreSQL: exactly once, device order, conflicts kept."""

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import select

from jobstream.fieldupdates.db.tables import events

from .harness import action, cancelled, dispatched, office, rescheduled, tech, visit

pytestmark = pytest.mark.integration


async def event_counts(field, wo):
    async with field.engine.connect() as conn:
        rows = await conn.scalars(select(events.c.data).where(events.c.stream_id == wo))
        return Counter(data.get("action_id") for data in rows)


async def types_of(field, wo):
    async with field.engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.event_type).where(events.c.stream_id == wo).order_by(events.c.position)
        )
        return [r.event_type for r in rows]


async def test_one_batch_posted_three_times_in_shuffled_order_gives_each_event_once(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    batch = visit(wo)
    outcomes = []
    for attempt in range(3):
        shuffled = batch[:]
        random.Random(attempt).shuffle(shuffled)
        response = await field.sync("t-ann", shuffled)
        assert response.status_code == 200, response.text
        outcomes.append(response.json())
    assert outcomes[0]["applied"] == len(batch)
    assert outcomes[1]["duplicate"] == outcomes[2]["duplicate"] == len(batch)
    assert {r["original_status"] for r in outcomes[2]["results"]} == {"applied"}
    # Each action became its event exactly once, and in device order.
    counts = await event_counts(field, wo)
    assert all(counts[a["action_id"]] == 1 for a in batch)
    assert await types_of(field, wo) == [
        "JobAcknowledged",
        "TravelStarted",
        "TimeLogged",
        "TechnicianArrived",
        "JobStarted",
        "MaterialUsed",
        "PartsRequested",
        "JobPutOnHold",
        "JobResumed",
        "NoteAdded",
        "TimeLogged",
        "JobCompleted",
    ]
    view = (await field.client.get(f"/jobs/{wo}", headers=tech("t-ann"))).json()
    assert view["completion"]["labour_minutes"] == 75
    assert view["completion"]["travel_minutes"] == 25


async def test_equal_device_times_are_ordered_by_the_device_sequence(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    same_instant = [
        action(wo, kind, seq, minutes=1) for seq, kind in ((2, "start_travel"), (1, "acknowledge"))
    ]
    response = await field.sync("t-ann", same_instant)
    assert response.json()["applied"] == 2
    assert await types_of(field, wo) == ["JobAcknowledged", "TravelStarted"]


async def test_a_batch_for_several_jobs_applies_each_jobs_actions_in_its_own_order(field):
    jobs = [dispatched("t-ann") for _ in range(3)]
    for job in jobs:
        await field.deliver(job)
    batch = [a for job in jobs for a in visit(job.work_order_id, labour=30)]
    random.Random(7).shuffle(batch)
    response = await field.sync("t-ann", batch)
    assert response.json()["applied"] == len(batch)
    for job in jobs:
        types = await types_of(field, job.work_order_id)
        assert types[0] == "JobAcknowledged" and types[-1] == "JobCompleted"


async def test_an_early_refused_action_is_kept_and_later_ones_are_still_decided(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    batch = [
        action(wo, "acknowledge", 1),
        action(wo, "arrive", 2),  # refused: not en route yet
        action(wo, "log_time", 3, {"kind": "labour", "minutes": 40}),  # a record: applies
        action(wo, "start_work", 4),  # refused: still only acknowledged
        action(wo, "start_travel", 5),  # fits the job as it stands
    ]
    body = (await field.sync("t-ann", batch)).json()
    assert [r["status"] for r in body["results"]] == [
        "applied",
        "rejected",
        "applied",
        "rejected",
        "applied",
    ]
    assert "allowed now: start_travel" in body["results"][1]["reason"]
    assert body["results"][1]["kept"] is True
    assert await types_of(field, wo) == [
        "JobAcknowledged",
        "DeviceActionRejected",
        "TimeLogged",
        "DeviceActionRejected",
        "TravelStarted",
    ]
    again = (await field.sync("t-ann", batch)).json()
    assert [r["original_status"] for r in again["results"]][1] == "rejected"
    assert again["duplicate"] == len(batch)


async def test_an_invalid_payload_is_rejected_with_the_field_and_kept(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    bad = action(wo, "log_time", 1, {"kind": "labour", "minutes": -5})
    body = (await field.sync("t-ann", [bad])).json()
    [result] = body["results"]
    assert result["status"] == "rejected" and result["kept"]
    assert "minutes" in result["reason"]
    rejected = (
        await field.client.get(f"/office/rejected-actions?work_order_id={wo}", headers=office())
    ).json()
    assert rejected[0]["payload"] == {"kind": "labour", "minutes": -5}


async def test_actions_after_reassignment_are_rejected_but_kept_and_visible_to_the_office(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    assert (await field.sync("t-ann", visit(wo)[:2])).json()["applied"] == 2
    await field.deliver(rescheduled(wo, "t-ann", "t-bob"))
    # Ann's device was offline and recorded more work.
    late = [action(wo, "log_time", 20, {"kind": "travel", "minutes": 30}), action(wo, "arrive", 21)]
    body = (await field.sync("t-ann", late)).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert all(r["kept"] and "reassigned" in r["reason"] for r in body["results"])
    assert (await field.client.get(f"/jobs/{wo}", headers=tech("t-ann"))).status_code == 403
    kept = (
        await field.client.get(f"/office/rejected-actions?work_order_id={wo}", headers=office())
    ).json()
    assert {k["action_id"] for k in kept} == {a["action_id"] for a in late}
    assert {k["payload"].get("minutes") for k in kept} == {30, None}
    assert all(k["device_time"] and k["received_at"] for k in kept)
    # Bob starts the flow afresh; Ann's earlier travel is still on the record.
    view = (await field.client.get(f"/jobs/{wo}", headers=tech("t-bob"))).json()
    assert view["status"] == "dispatched" and view["allowed_actions"][0] == "acknowledge"
    assert len(view["rejected_actions"]) == 2


async def test_actions_on_a_cancelled_job_are_rejected_but_kept(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    await field.deliver(cancelled(wo))
    body = (await field.sync("t-ann", visit(wo)[:3])).json()
    assert body["rejected"] == 3
    assert all("cancelled" in r["reason"] and r["kept"] for r in body["results"])


async def test_a_never_assigned_technicians_actions_are_refused_and_not_kept(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    body = (await field.sync("t-eve", visit(wo)[:2])).json()
    assert {r["reason"] for r in body["results"]} == {"this job is not assigned to you"}
    assert not any(r["kept"] for r in body["results"])
    assert await types_of(field, wo) == []


async def test_two_devices_of_one_technician_syncing_at_once_apply_each_action_once(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    batch = visit(wo)
    phone, tablet = batch[:], batch[:]
    random.Random(1).shuffle(phone)
    random.Random(2).shuffle(tablet)
    first, second = await asyncio.gather(field.sync("t-ann", phone), field.sync("t-ann", tablet))
    applied = first.json()["applied"] + second.json()["applied"]
    assert applied == len(batch)
    counts = await event_counts(field, wo)
    assert all(counts[a["action_id"]] == 1 for a in batch)
    types = await types_of(field, wo)
    assert types[0] == "JobAcknowledged" and types[-1] == "JobCompleted"


async def test_an_action_id_reused_for_other_content_is_rejected(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    first = action(wo, "add_note", 1, {"text": "one"})
    await field.sync("t-ann", [first])
    clash = {**first, "payload": {"text": "two"}}
    [result] = (await field.sync("t-ann", [clash])).json()["results"]
    assert result["status"] == "rejected" and "already used" in result["reason"]


async def test_a_malformed_batch_is_a_422_naming_the_field(field):
    response = await field.sync("t-ann", [{"action_id": "a1", "work_order_id": "w", "type": "x"}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "device_time"


async def test_a_sync_that_fails_midway_completes_on_the_next_post_without_doubling(
    field, monkeypatch
):
    from jobstream.fieldupdates import handlers

    jobs = [dispatched("t-ann") for _ in range(3)]
    for job in jobs:
        await field.deliver(job)
    batch = [a for job in jobs for a in visit(job.work_order_id)]
    doomed = sorted(j.work_order_id for j in jobs)[1]
    real = handlers._apply_to_job

    async def crash_on_second_job(conn, store, technician_id, wo, *args):
        results = await real(conn, store, technician_id, wo, *args)
        if wo == doomed:
            raise ConnectionResetError("database went away")  # inside the job's transaction
        return results

    monkeypatch.setattr(handlers, "_apply_to_job", crash_on_second_job)
    with pytest.raises(ConnectionResetError):
        await field.sync("t-ann", batch)
    monkeypatch.setattr(handlers, "_apply_to_job", real)
    body = (await field.sync("t-ann", batch)).json()
    first = sorted(j.work_order_id for j in jobs)[0]
    assert {r["status"] for r in body["results"] if r["work_order_id"] == first} == {"duplicate"}
    assert {r["status"] for r in body["results"] if r["work_order_id"] != first} == {"applied"}
    for job in jobs:
        counts = await event_counts(field, job.work_order_id)
        assert sorted(counts.values()) == [1] * 12
