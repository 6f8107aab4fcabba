"""The technician's API over real PostgreSQL: status flow, refusals, access, job sheets."""

import pytest
from sqlalchemy import select

from jobstream.fieldupdates.db.tables import events

from .harness import CHECKLIST, NOW, dispatched, office, tech

pytestmark = pytest.mark.integration


async def stream_types(field, wo):
    async with field.engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.event_type).where(events.c.stream_id == wo).order_by(events.c.position)
        )
        return [r.event_type for r in rows]


async def test_todays_jobs_come_with_their_job_packs(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    await field.deliver(dispatched("t-bob"))
    response = await field.client.get("/jobs", headers=tech("t-ann"))
    assert response.status_code == 200
    [mine] = response.json()
    assert mine["work_order_id"] == job.work_order_id
    assert mine["job_pack"]["details"]["customer_id"] == "cust-test"


async def test_the_status_flow_runs_to_completion(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    eta = NOW.isoformat()
    for path, body in (
        ("acknowledge", {}),
        ("travel", {"eta": eta}),
        ("arrive", {}),
        ("start", {}),
        ("hold", {"reason": "parts_required", "detail": "Needs a pump"}),
        ("resume", {}),
        ("time", {"kind": "labour", "minutes": 75}),
    ):
        response = await field.act(wo, path, "t-ann", body)
        assert response.status_code == 200, response.text
    done = await field.act(
        wo,
        "complete",
        "t-ann",
        {
            "work_done": "Replaced pump",
            "first_time_fix": False,
            "follow_up_needed": True,
            "follow_up_reason": "Return to balance radiators",
            "next_service_due": "2027-11-23",
            "findings": "Pump seized",
        },
    )
    assert done.status_code == 200, done.text
    view = done.json()["job"]
    assert view["status"] == "completed"
    assert view["completion"]["labour_minutes"] == 75
    assert view["completion"]["follow_up_reason"] == "Return to balance radiators"
    assert view["eta"] is not None
    assert await stream_types(field, wo) == [
        "JobAcknowledged",
        "TravelStarted",
        "TechnicianArrived",
        "JobStarted",
        "JobPutOnHold",
        "JobResumed",
        "TimeLogged",
        "JobCompleted",
    ]


async def test_an_invalid_transition_answers_409_naming_the_allowed_actions(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    response = await field.act(job.work_order_id, "arrive", "t-ann")
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["allowed_actions"][0] == "acknowledge"
    assert "cannot arrive while the job is dispatched" in detail["detail"]
    assert await stream_types(field, job.work_order_id) == []


async def test_a_technician_reaching_for_another_technicians_job_gets_403(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    wo = job.work_order_id
    assert (await field.client.get(f"/jobs/{wo}", headers=tech("t-bob"))).status_code == 403
    assert (await field.act(wo, "acknowledge", "t-bob")).status_code == 403
    assert (await field.client.get(f"/jobs/{wo}")).status_code == 401
    assert await stream_types(field, wo) == []


async def test_the_office_sees_any_job_and_an_unknown_job_is_404(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    assert (
        await field.client.get(f"/jobs/{job.work_order_id}", headers=office())
    ).status_code == 200
    assert (await field.client.get("/jobs/wo-none", headers=tech("t-ann"))).status_code == 404


async def test_a_bad_body_is_a_422_naming_the_field(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    response = await field.act(job.work_order_id, "time", "t-ann", {"kind": "labour", "minutes": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "minutes"


async def test_an_idempotency_key_makes_a_retried_action_a_duplicate(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    key = {"Idempotency-Key": "tap-1"}
    first = await field.act(job.work_order_id, "acknowledge", "t-ann", extra_headers=key)
    again = await field.act(job.work_order_id, "acknowledge", "t-ann", extra_headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["outcome"]["status"] == "duplicate"
    assert await stream_types(field, job.work_order_id) == ["JobAcknowledged"]


async def test_completion_is_refused_until_the_required_checklist_items_are_done(field, tmp_path):
    job = dispatched("t-ann", CHECKLIST)
    wo = job.work_order_id
    await field.deliver(job)
    for path in ("acknowledge", "travel", "arrive", "start"):
        assert (await field.act(wo, path, "t-ann")).status_code == 200
    body = {"work_done": "Serviced", "first_time_fix": True, "labour_minutes": 60}
    refused = await field.act(wo, "complete", "t-ann", body)
    assert refused.status_code == 409
    reason = refused.json()["detail"]["detail"]
    assert "flue (Flue gas reading)" in reason and "plate (Photo of data plate)" in reason

    answers = [
        {"item_id": "flue", "answer": {"answer_type": "number", "number": 8}},
        {"item_id": "safe", "answer": {"answer_type": "yes_no", "yes_no": True}},
    ]
    for answer in answers:
        assert (await field.act(wo, "checklist", "t-ann", answer)).status_code == 200
    photo = await field.client.put(
        f"/jobs/{wo}/attachments/plate-1?kind=photo",
        content=b"\xff\xd8jpeg-bytes",
        headers={**tech("t-ann"), "Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 201, photo.text
    still = await field.act(wo, "complete", "t-ann", body)
    assert "plate (Photo of data plate)" in still.json()["detail"]["detail"]
    assert "flue" not in still.json()["detail"]["detail"]
    answer = {"item_id": "plate", "answer": {"answer_type": "photo", "attachment_id": "plate-1"}}
    assert (await field.act(wo, "checklist", "t-ann", answer)).status_code == 200
    done = await field.act(wo, "complete", "t-ann", body)
    assert done.status_code == 200, done.text
    view = done.json()["job"]
    assert view["checklist"]["missing_required"] == []
    assert view["checklist"]["answers"]["flue"]["answer"]["unit"] == "ppm"
    # Labour stated without time entries was logged first, in the same transaction.
    assert view["time"]["labour_minutes"] == 60
    types = await stream_types(field, wo)
    assert types[-2:] == ["TimeLogged", "JobCompleted"]


async def test_could_not_complete_closes_the_visit_with_its_reason(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    for path in ("acknowledge", "travel", "arrive"):
        assert (await field.act(wo, path, "t-ann")).status_code == 200
    response = await field.act(
        wo, "incomplete", "t-ann", {"reason": "no_access", "detail": "Nobody home, card left"}
    )
    assert response.status_code == 200, response.text
    view = response.json()["job"]
    assert view["status"] == "incomplete"
    assert view["incomplete"]["reason"] == "no_access"
    assert view["allowed_actions"] == []


async def test_a_former_technicians_online_action_is_a_conflict_that_is_kept(field):
    from .harness import rescheduled

    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    await field.deliver(rescheduled(wo, "t-ann", "t-bob"))
    response = await field.act(wo, "acknowledge", "t-ann")
    assert response.status_code == 409
    assert response.json()["detail"]["kept"] is True
    assert await stream_types(field, wo) == ["DeviceActionRejected"]
