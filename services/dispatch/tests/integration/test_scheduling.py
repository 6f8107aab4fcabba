"""The scheduler over real Kafka and PostgreSQL.

Released jobs are scheduled and dispatched, qualifications hold, urgent jobs displace
routine ones, failures reach the office.
"""

from datetime import UTC, datetime, timedelta

import pytest

from jobstream.contracts.common import GeoPoint, Priority
from jobstream.contracts.field import (
    HoldReason,
    JobCompleted,
    JobPutOnHold,
    JobReopened,
    JobResumed,
    JobStarted,
    NoteAdded,
    TechnicianLocated,
)
from jobstream.contracts.intake import WorkOrderAmended, WorkOrderCancelled
from jobstream.testing.waiting import wait_until

from .harness import (
    LEEDS,
    LIVERPOOL,
    MANCHESTER,
    SALFORD,
    released,
    shifts,
    technician,
)

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(hours=hour, minutes=minute)


async def test_a_released_job_is_scheduled_and_dispatched_with_its_job_pack(dispatch, topic_reader):
    await dispatch.register(technician("tech-amir", SALFORD))
    earlier = released(at(7), site_id="site-deansgate")
    await dispatch.send(earlier)
    note = NoteAdded(
        work_order_id=earlier.work_order_id,
        technician_id="tech-amir",
        device_time=at(9),
        received_at=at(9),
        note_id="note-1",
        text="Stopcock is behind the boiler cupboard panel",
        carry_forward=True,
    )
    done = JobCompleted(
        work_order_id=earlier.work_order_id,
        technician_id="tech-amir",
        device_time=at(9, 30),
        received_at=at(9, 30),
        customer_id="cust-1",
        site_id="site-deansgate",
        job_type="boiler_service",
        priority=Priority.P3,
        completed_at=at(9, 30),
        labour_minutes=60,
        work_done="Replaced the diverter valve",
        first_time_fix=True,
    )
    await dispatch.send(note, done)

    release = released(at(10), site_id="site-deansgate")
    [env] = await dispatch.send(release)

    job = await dispatch.job(release.work_order_id)
    assert job["state"] == "scheduled" and job["technician_id"] == "tech-amir"
    assert job["dispatched_to"] == "tech-amir"
    topic = dispatch.topic("workorders.dispatch")
    records = await topic_reader(
        topic,
        lambda recs: sum(r.key == release.work_order_id.encode() for r in recs) >= 2,
    )
    mine = [r for r in records if r.key == release.work_order_id.encode()]
    types = [dict(r.headers)["ce_type"] for r in mine]
    assert types == [b"JobScheduled", b"JobDispatched"]
    assert dict(mine[0].headers)["ce_causationid"] == env.id.encode()
    [scheduled, dispatched] = [d["data"] for d in await dispatch.decisions(release.work_order_id)]
    assert scheduled["window_start"] >= at(10).isoformat().replace("+00:00", "Z")
    assert scheduled["reasons"] and scheduled["considered"]
    pack = dispatched["job_pack"]
    assert pack["details"]["access_instructions"] == "Key with concierge"
    assert [n["text"] for n in pack["notes_carried_forward"]] == [note.text]
    assert [(h["work_order_id"], h["outcome"]) for h in pack["site_history"]] == [
        (earlier.work_order_id, "completed")
    ]


async def test_redelivery_of_a_release_does_not_plan_twice(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD))
    release = released(at(10))
    [env] = await dispatch.send(release)
    from jobstream.testing.contract_suite import publish

    await publish(dispatch.bootstrap, dispatch.topic("workorders.intake"), [env])
    await wait_until(lambda: dispatch.runner.stats.duplicates >= 1, message="duplicate seen")
    assert [d["event_type"] for d in await dispatch.decisions(release.work_order_id)] == [
        "JobScheduled",
        "JobDispatched",
    ]


async def test_an_expired_certification_excludes_a_technician(dispatch):
    expired = [{"name": "gas_safe", "expires_on": "2026-11-22"}]
    await dispatch.register(technician("tech-near", MANCHESTER, certs=expired))
    await dispatch.register(technician("tech-far", LIVERPOOL))
    release = released(at(10))
    await dispatch.send(release)

    job = await dispatch.job(release.work_order_id)
    assert job["technician_id"] == "tech-far"
    near = next(c for c in job["considered"] if c["technician_id"] == "tech-near")
    assert near["eligible"] is False
    assert near["reason"] == "certification gas_safe expired on 2026-11-22"


async def test_an_urgent_job_displaces_a_routine_one_and_moved_jobs_are_rescheduled(dispatch):
    """Logged 9:00 in Manchester; the nearby engineer finishes a job in Salford at 10:00."""
    await dispatch.register(technician("tech-near", SALFORD, shifts=shifts("08:00", "17:00")))
    await dispatch.register(technician("tech-far", LIVERPOOL, shifts=shifts("08:00", "17:00")))
    current = released(at(7), place=SALFORD, priority=Priority.P4, duration=115)
    routine = released(
        at(7), place=SALFORD, priority=Priority.P4, duration=120, window=(at(10, 30), at(13))
    )
    await dispatch.send(current, routine)
    assert (await dispatch.job(current.work_order_id))["technician_id"] == "tech-near"
    assert (await dispatch.job(routine.work_order_id))["technician_id"] == "tech-near"

    urgent = released(
        at(9),
        place=MANCHESTER,
        priority=Priority.P1,
        respond=timedelta(hours=1),
        resolve=timedelta(hours=4),
    )
    [env] = await dispatch.send(urgent)

    job = await dispatch.job(urgent.work_order_id)
    assert job["technician_id"] == "tech-near"
    assert datetime.fromisoformat(job["window_start"]) <= at(10, 30)
    moved = await dispatch.decisions(routine.work_order_id)
    rescheduled = [d for d in moved if d["event_type"] == "JobRescheduled"]
    assert len(rescheduled) == 1 and rescheduled[0]["causation_id"] == env.id
    data = rescheduled[0]["data"]
    assert data["previous_technician_id"] == "tech-near"
    assert data["technician_id"] == "tech-far"
    assert any("displaced by P1" in r for r in data["reasons"])
    # The office still sees when it was first scheduled; the decision time moved.
    view = await dispatch.job(routine.work_order_id)
    assert datetime.fromisoformat(view["first_scheduled_at"]) == at(7)
    assert datetime.fromisoformat(view["decided_at"]) == at(9)
    # The new technician's device gets the pack; the frozen current job did not move.
    assert moved[-1]["event_type"] == "JobDispatched"
    assert moved[-1]["data"]["technician_id"] == "tech-far"
    assert [d["event_type"] for d in await dispatch.decisions(current.work_order_id)] == [
        "JobScheduled",
        "JobDispatched",
    ]


async def test_nobody_qualified_gives_scheduling_failed_in_the_failed_lane(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD))
    release = released(at(10), skills=("hvac",), certs=("f_gas",))
    await dispatch.send(release)

    [failed] = await dispatch.decisions(release.work_order_id)
    assert failed["event_type"] == "SchedulingFailed"
    assert failed["data"]["reason"] == "no_qualified_technician"
    r = await dispatch.client.get("/board", params={"day": "2026-11-23"}, headers=dispatch.office)
    assert r.status_code == 200
    lane = r.json()["failed"]
    assert [c["work_order_id"] for c in lane] == [release.work_order_id]
    assert lane[0]["failure_reason"] == "no_qualified_technician"


async def test_no_capacity_before_the_deadline_gives_scheduling_failed(dispatch):
    await dispatch.register(technician("tech-amir", LEEDS, shifts=shifts("08:00", "17:00")))
    release = released(at(18), place=MANCHESTER, priority=Priority.P1, resolve=timedelta(hours=4))
    await dispatch.send(release)
    [failed] = await dispatch.decisions(release.work_order_id)
    assert failed["data"]["reason"] == "no_capacity_before_deadline"


async def test_a_cancelled_job_leaves_the_plan_and_frees_its_slot(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "10:00")))
    first = released(at(7), duration=90, resolve=timedelta(hours=4))
    second = released(at(7), duration=90, resolve=timedelta(hours=4))
    await dispatch.send(first, second)
    assert (await dispatch.job(second.work_order_id))["state"] == "failed"

    cancel = WorkOrderCancelled(
        work_order_id=first.work_order_id,
        reason="customer fixed it",
        cancelled_by="office",
        cancelled_at=at(7, 30),
    )
    await dispatch.send(cancel)
    assert [d["event_type"] for d in await dispatch.decisions(first.work_order_id)][-1] == (
        "JobUnscheduled"
    )
    assert (await dispatch.job(second.work_order_id))["technician_id"] == "tech-amir"


async def test_an_amendment_re_sends_the_job_pack(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD))
    release = released(at(10))
    await dispatch.send(release)
    details = release.details.model_copy(update={"access_instructions": "Ring bell twice"})
    amended = WorkOrderAmended(
        work_order_id=release.work_order_id,
        details=details,
        changed_fields=("access_instructions",),
        amended_by="office",
        amended_at=at(10, 5),
    )
    await dispatch.send(amended)
    last = (await dispatch.decisions(release.work_order_id))[-1]
    assert last["event_type"] == "JobDispatched"
    assert last["data"]["job_pack"]["details"]["access_instructions"] == "Ring bell twice"


async def test_a_job_raised_to_urgent_moves_ahead_of_routine_work(dispatch):
    # Intake answers a priority change on a released job with WorkOrderAmended (new
    # priority and deadlines). A job that became urgent is placed again as urgent jobs
    # are — it may displace routine work — rather than keeping its afternoon slot.
    await dispatch.register(technician("tech-near", SALFORD, shifts=shifts("08:00", "17:00")))
    await dispatch.register(technician("tech-far", LIVERPOOL, shifts=shifts("08:00", "17:00")))
    morning = released(at(7), place=SALFORD, priority=Priority.P4, duration=180)
    midday = released(at(7), place=SALFORD, priority=Priority.P4, duration=180)
    await dispatch.send(morning, midday)
    later = released(at(7, 10), place=SALFORD, priority=Priority.P3, duration=60)
    await dispatch.send(later)
    before = await dispatch.job(later.work_order_id)
    assert datetime.fromisoformat(before["window_start"]) >= at(11)

    details = later.details.model_copy(
        update={"priority": Priority.P1, "respond_by": at(10), "resolve_by": at(12)}
    )
    [env] = await dispatch.send(
        WorkOrderAmended(
            work_order_id=later.work_order_id,
            details=details,
            changed_fields=("priority", "resolve_by", "respond_by"),
            reason="customer has no heating and a newborn",
            amended_by="office",
            amended_at=at(7, 30),
        )
    )
    after = await dispatch.job(later.work_order_id)
    assert datetime.fromisoformat(after["window_start"]) <= at(10)
    moved = (await dispatch.decisions(later.work_order_id))[-2:]
    assert [d["event_type"] for d in moved] == ["JobRescheduled", "JobDispatched"]
    assert moved[0]["causation_id"] == env.id
    assert any("raised to P1" in r for r in moved[0]["data"]["reasons"])


async def test_a_job_raised_to_urgent_keeps_its_slot_when_nothing_sooner_exists(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "17:00")))
    job = released(at(7), place=SALFORD, priority=Priority.P3, duration=60)
    await dispatch.send(job)
    before = await dispatch.job(job.work_order_id)
    details = job.details.model_copy(
        update={"priority": Priority.P1, "respond_by": at(9), "resolve_by": at(12)}
    )
    await dispatch.send(
        WorkOrderAmended(
            work_order_id=job.work_order_id,
            details=details,
            changed_fields=("priority", "resolve_by", "respond_by"),
            reason="vulnerable customer",
            amended_by="office",
            amended_at=at(7, 30),
        )
    )
    after = await dispatch.job(job.work_order_id)
    assert after["state"] == "scheduled"
    assert after["window_start"] == before["window_start"]
    assert after["technician_id"] == "tech-amir"
    kinds = [d["event_type"] for d in await dispatch.decisions(job.work_order_id)]
    assert kinds == ["JobScheduled", "JobDispatched", "JobDispatched"]  # the pack, re-sent


async def test_a_late_start_pushes_the_technicians_next_job(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "17:00")))
    first = released(at(7), place=SALFORD, duration=60, window=(at(8), at(10)))
    second = released(at(7), place=SALFORD, duration=60, window=(at(9, 30), at(13)))
    await dispatch.send(first, second)
    planned = datetime.fromisoformat((await dispatch.job(second.work_order_id))["window_start"])
    assert planned < at(10, 30)

    started = JobStarted(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        device_time=at(9, 45),
        received_at=at(9, 45),
    )
    [env] = await dispatch.send(started)
    job = await dispatch.job(second.work_order_id)
    assert datetime.fromisoformat(job["window_start"]) == at(10, 45)
    moved = (await dispatch.decisions(second.work_order_id))[-1]
    assert moved["event_type"] == "JobRescheduled" and moved["causation_id"] == env.id
    assert any("started at 09:45" in r for r in moved["data"]["reasons"])


async def test_a_decision_never_goes_back_in_time_before_the_jobs_last_one(dispatch):
    # A device offline since 09:45 syncs the start of the first job after the second job
    # was scheduled at 09:50. The start pushes the second job; its JobRescheduled answers an
    # event stamped 09:45, but a job's decisions stay in time order (ADR 0066) — else a
    # timeline ordered by time would show the move before the scheduling.
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "17:00")))
    first = released(at(7), place=SALFORD, duration=60, window=(at(8), at(10)))
    await dispatch.send(first)
    second = released(at(9, 50), place=SALFORD, duration=60, window=(at(9, 30), at(13)))
    await dispatch.send(second)
    [scheduled] = [
        d
        for d in await dispatch.decisions(second.work_order_id)
        if d["event_type"] == "JobScheduled"
    ]
    assert scheduled["occurred_at"] == at(9, 50)

    started = JobStarted(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        device_time=at(9, 45),
        received_at=at(10, 5),
    )
    [env] = await dispatch.send(started)
    decisions = await dispatch.decisions(second.work_order_id)
    moved = decisions[-1]
    assert moved["event_type"] == "JobRescheduled" and moved["causation_id"] == env.id
    assert moved["occurred_at"] == at(9, 50)
    assert datetime.fromisoformat(moved["data"]["rescheduled_at"]) == at(9, 50)
    times = [d["occurred_at"] for d in decisions]
    assert times == sorted(times)
    job = await dispatch.job(second.work_order_id)
    assert datetime.fromisoformat(job["first_scheduled_at"]) == at(9, 50)


def completed(wo: str, tech: str, when: datetime) -> JobCompleted:
    return JobCompleted(
        work_order_id=wo,
        technician_id=tech,
        device_time=when,
        received_at=when,
        customer_id="cust-1",
        job_type="boiler_service",
        priority=Priority.P3,
        completed_at=when,
        labour_minutes=60,
        work_done="Replaced the diverter valve",
        first_time_fix=True,
    )


async def test_a_hold_keeps_the_technician_busy_on_site_and_shows_on_the_board(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "17:00")))
    first = released(at(7), place=SALFORD, duration=60, window=(at(8), at(10)))
    second = released(at(7), place=SALFORD, duration=60, window=(at(9), at(15)))
    await dispatch.send(first, second)
    started = JobStarted(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        device_time=at(8),
        received_at=at(8),
    )
    held = JobPutOnHold(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        device_time=at(8, 30),
        received_at=at(8, 30),
        reason=HoldReason.CUSTOMER_UNAVAILABLE,
        detail="waiting for the customer to find the isolation key",
    )
    await dispatch.send(started, held)
    assert (await dispatch.job(first.work_order_id))["field_status"] == "on_hold"
    board = await dispatch.client.get(
        "/board", params={"day": "2026-11-23"}, headers=dispatch.office
    )
    assert board.status_code == 200, board.text
    assert "on_hold" in board.text

    # Resumed at 10:30: the held hour ran past the planned end, so the next visit (planned
    # for 09:00) now waits for the first job's remaining work.
    resumed = JobResumed(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        device_time=at(10, 30),
        received_at=at(10, 30),
    )
    [env] = await dispatch.send(resumed)
    assert (await dispatch.job(first.work_order_id))["field_status"] == "in_progress"
    nxt = await dispatch.job(second.work_order_id)
    assert datetime.fromisoformat(nxt["window_start"]) >= at(10, 30)
    moved = (await dispatch.decisions(second.work_order_id))[-1]
    assert moved["event_type"] == "JobRescheduled" and moved["causation_id"] == env.id


async def test_a_reopened_job_is_open_again_and_re_times_its_technicians_day(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD, shifts=shifts("08:00", "17:00")))
    first = released(at(7), place=SALFORD, duration=60, window=(at(8), at(10)))
    second = released(at(7), place=SALFORD, duration=60, window=(at(11), at(15)))
    await dispatch.send(first, second)
    await dispatch.send(completed(first.work_order_id, "tech-amir", at(9)))
    assert (await dispatch.job(first.work_order_id))["status"] == "done"
    assert datetime.fromisoformat((await dispatch.job(second.work_order_id))["window_start"]) == at(
        11
    )

    reopened = JobReopened(
        work_order_id=first.work_order_id,
        technician_id="tech-amir",
        reason="the boiler still locks out",
        reopened_by="office-ann",
        reopened_at=at(10, 50),
    )
    [env] = await dispatch.send(reopened)
    view = await dispatch.job(first.work_order_id)
    assert (view["status"], view["field_status"]) == ("open", "in_progress")
    assert view["technician_id"] == "tech-amir"
    # Tech-amir works the reopened job from 10:50 for its hour: the next visit waits.
    nxt = await dispatch.job(second.work_order_id)
    assert datetime.fromisoformat(nxt["window_start"]) == at(11, 50)
    moved = [d for d in await dispatch.decisions(second.work_order_id)][-1]
    assert moved["event_type"] == "JobRescheduled" and moved["causation_id"] == env.id
    assert any("reopened at 10:50" in r for r in moved["data"]["reasons"])

    # Finished again at 11:20: done again; the next visit keeps the time it was given
    # (a repair never pulls a visit earlier than promised).
    await dispatch.send(completed(first.work_order_id, "tech-amir", at(11, 20)))
    assert (await dispatch.job(first.work_order_id))["status"] == "done"
    nxt = await dispatch.job(second.work_order_id)
    assert datetime.fromisoformat(nxt["window_start"]) == at(11, 50)


async def test_the_board_shows_tiers_timelines_and_live_location(dispatch):
    await dispatch.register(technician("tech-amir", SALFORD))
    urgent = released(at(9), priority=Priority.P1, respond=timedelta(hours=1))
    routine = released(at(9), priority=Priority.P4)
    await dispatch.send(urgent, routine)
    located = TechnicianLocated(
        technician_id="tech-amir",
        location=GeoPoint(lat=53.47, lon=-2.25),
        device_time=at(9, 1),
        received_at=at(9, 1),
    )
    await dispatch.send(located)

    r = await dispatch.client.get("/board", params={"day": "2026-11-23"}, headers=dispatch.office)
    assert r.status_code == 200
    board = r.json()
    tiers = {t["priority"]: [j["work_order_id"] for j in t["jobs"]] for t in board["tiers"]}
    assert tiers["P1"] == [urgent.work_order_id]
    assert tiers["P4"] == [routine.work_order_id]
    [amir] = board["technicians"]
    assert amir["location"]["lat"] == 53.47
    kinds = [item["kind"] for item in amir["timeline"]]
    assert kinds.count("job") == 2 and "travel" in kinds
    assert board["unscheduled"] == [] and board["failed"] == []
