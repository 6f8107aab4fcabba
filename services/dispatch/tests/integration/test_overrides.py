"""Dispatcher overrides and technician changes through the API.

They are checked against the same hard constraints as the engine; read models rebuild
from dispatch's own events.
"""

from datetime import UTC, datetime, timedelta

import pytest

from jobstream.dispatch.db.tables import events
from jobstream.dispatch.projections import rebuild
from jobstream.eventstore.store import EventStore

from .harness import (
    LIVERPOOL,
    MANCHESTER,
    SALFORD,
    released,
    technician,
)

pytestmark = pytest.mark.integration


def tomorrow(hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def scheduled_job(dispatch):
    await dispatch.register(technician("tech-gas", SALFORD))
    await dispatch.register(technician("tech-gas-2", LIVERPOOL))
    await dispatch.register(technician("tech-sparky", MANCHESTER, skills=("electrical",), certs=[]))
    # Tomorrow's job: not under way, so the office may still move it.
    release = released(
        datetime.now(UTC), resolve=timedelta(days=5), window=(tomorrow(9), tomorrow(17))
    )
    await dispatch.send(release)
    job = await dispatch.job(release.work_order_id)
    assert job["technician_id"] == "tech-gas"
    return release.work_order_id


async def test_assigning_an_unqualified_technician_is_refused(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign",
        json={"technician_id": "tech-sparky", "start": tomorrow(10).isoformat()},
        headers=dispatch.office,
    )
    assert r.status_code == 409
    assert any("lacks" in v for v in r.json()["detail"]["violations"])
    assert (await dispatch.job(wo))["technician_id"] == "tech-gas"


async def test_qualification_cannot_be_forced(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign",
        json={
            "technician_id": "tech-sparky",
            "start": tomorrow(10).isoformat(),
            "force": True,
            "force_reason": "nobody else free",
        },
        headers=dispatch.office,
    )
    assert r.status_code == 409
    assert "cannot be forced" in r.json()["detail"]["error"]
    assert (await dispatch.job(wo))["technician_id"] == "tech-gas"


async def test_a_forced_breach_is_recorded_with_its_reason_and_who_decided(dispatch):
    wo = await scheduled_job(dispatch)
    outside_window = {"technician_id": "tech-gas-2", "start": tomorrow(19).isoformat()}
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign", json=outside_window, headers=dispatch.office
    )
    assert r.status_code == 409
    assert any("customer's window" in v for v in r.json()["detail"]["violations"])
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign",
        json=outside_window | {"force": True, "force_reason": "Customer agreed an evening visit"},
        headers=dispatch.office,
    )
    assert r.status_code == 200, r.text
    assert r.json()["forced"] is True
    moved = (await dispatch.decisions(wo))[-2]
    assert moved["event_type"] == "JobRescheduled"
    assert moved["data"]["forced"] is True
    assert moved["data"]["force_reason"] == "Customer agreed an evening visit"
    assert moved["data"]["decided_by"] == "office-ann"
    assert moved["data"]["technician_id"] == "tech-gas-2"


async def test_assigning_past_resolve_by_is_noted_as_an_sla_breach_not_refused(dispatch):
    # ADR 0022 and 0085: a deadline is weighed for the office; only time and qualification
    # rules need force.
    await dispatch.register(technician("tech-gas", SALFORD))
    now = datetime.now(UTC)
    release = released(now, resolve=tomorrow(11) - now, window=(tomorrow(9), tomorrow(17)))
    await dispatch.send(release)
    wo = release.work_order_id
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign",
        json={"technician_id": "tech-gas", "start": tomorrow(13).isoformat()},
        headers=dispatch.office,
    )
    assert r.status_code == 200, r.text
    assert r.json()["forced"] is False
    [moved] = [d for d in await dispatch.decisions(wo) if d["event_type"] == "JobRescheduled"]
    assert moved["data"]["forced"] is False
    assert moved["data"]["decided_by"] == "office-ann"
    assert "finishes after the resolve-by deadline (SLA breach)" in moved["data"]["reasons"]


async def test_force_without_a_reason_is_a_422_naming_the_field(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign",
        json={"technician_id": "tech-sparky", "start": tomorrow(10).isoformat(), "force": True},
        headers=dispatch.office,
    )
    assert r.status_code == 422
    assert "force_reason" in r.text


async def test_a_valid_move_reschedules_and_dispatches_to_the_new_technician(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        f"/jobs/{wo}/move",
        json={"technician_id": "tech-gas-2", "start": tomorrow(11).isoformat()},
        headers=dispatch.office,
    )
    assert r.status_code == 200, r.text
    rescheduled, dispatched = (await dispatch.decisions(wo))[-2:]
    assert rescheduled["event_type"] == "JobRescheduled"
    assert rescheduled["data"]["previous_technician_id"] == "tech-gas"
    assert rescheduled["data"]["forced"] is False
    assert dispatched["event_type"] == "JobDispatched"
    assert dispatched["data"]["technician_id"] == "tech-gas-2"


async def test_moving_into_an_absence_is_refused(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        "/technicians/tech-gas-2/absences",
        json={
            "starts_at": tomorrow(0).isoformat(),
            "ends_at": tomorrow(23).isoformat(),
            "reason": "Training",
        },
        headers=dispatch.office,
    )
    assert r.status_code == 201, r.text
    r = await dispatch.client.post(
        f"/jobs/{wo}/move",
        json={"technician_id": "tech-gas-2", "start": tomorrow(11).isoformat()},
        headers=dispatch.office,
    )
    assert r.status_code == 409
    assert any("working time" in v for v in r.json()["detail"]["violations"])


async def test_an_absence_moves_the_technicians_visits_to_someone_else(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        "/technicians/tech-gas/absences",
        json={
            "starts_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(days=6)).isoformat(),
            "reason": "Sick",
        },
        headers=dispatch.office,
    )
    assert r.status_code == 201, r.text
    job = await dispatch.job(wo)
    assert job["technician_id"] == "tech-gas-2"
    assert (await dispatch.decisions(wo))[-2]["event_type"] == "JobRescheduled"


async def test_an_unassigned_job_is_held_until_a_dispatcher_assigns_it(dispatch):
    wo = await scheduled_job(dispatch)
    r = await dispatch.client.post(
        f"/jobs/{wo}/unassign", json={"reason": "customer asked to wait"}, headers=dispatch.office
    )
    assert r.status_code == 200, r.text
    assert (await dispatch.decisions(wo))[-1]["event_type"] == "JobUnscheduled"
    # New capacity would normally pull waiting jobs in; a held one stays where the office put it.
    await dispatch.register(technician("tech-gas-3", SALFORD))
    job = await dispatch.job(wo)
    assert job["state"] == "unscheduled" and job["technician_id"] is None
    r = await dispatch.client.post(
        f"/jobs/{wo}/assign", json={"technician_id": "tech-gas-3"}, headers=dispatch.office
    )
    assert r.status_code == 200, r.text
    assert (await dispatch.job(wo))["technician_id"] == "tech-gas-3"


async def test_a_profile_update_needs_the_version_read(dispatch):
    await dispatch.register(technician("tech-gas", SALFORD))
    body = technician("tech-gas", SALFORD)
    del body["technician_id"]
    r = await dispatch.client.put(
        "/technicians/tech-gas",
        json=body | {"name": "Renamed"},
        headers=dispatch.office | {"If-Match": "7"},
    )
    assert r.status_code == 409
    r = await dispatch.client.put(
        "/technicians/tech-gas",
        json=body | {"name": "Renamed"},
        headers=dispatch.office | {"If-Match": "1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2


async def test_only_the_office_may_change_the_plan(dispatch):
    from jobstream.auth import Role, mint_token
    from jobstream.settings import AuthSettings

    token = mint_token(AuthSettings(), subject="t", role=Role.TECHNICIAN, technician_id="t")
    r = await dispatch.client.post(
        "/technicians",
        json=technician("tech-x", SALFORD),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403
    assert (await dispatch.client.get("/board")).status_code == 401


async def test_read_models_rebuild_from_dispatchs_own_events(dispatch):
    wo = await scheduled_job(dispatch)
    await dispatch.client.post(
        f"/jobs/{wo}/move",
        json={"technician_id": "tech-gas-2", "start": tomorrow(11).isoformat()},
        headers=dispatch.office,
    )
    before = await dispatch.rows()
    engine = dispatch.client._transport.app.state.runtime.engine
    async with engine.begin() as conn:
        assert await rebuild(conn, EventStore(events)) > 0
    assert await dispatch.rows() == before


async def test_the_day_optimiser_reschedules_and_keeps_every_job(dispatch):
    await dispatch.register(technician("tech-gas", SALFORD))
    await dispatch.register(technician("tech-gas-2", LIVERPOOL))
    window = (tomorrow(8), tomorrow(18))
    wos = []
    for place in (LIVERPOOL, SALFORD, LIVERPOOL, SALFORD, MANCHESTER):
        release = released(datetime.now(UTC), place=place, window=window)
        await dispatch.send(release)
        wos.append(release.work_order_id)
    r = await dispatch.client.post(
        "/plan/optimise", json={"day": tomorrow(8).date().isoformat()}, headers=dispatch.office
    )
    assert r.status_code == 200, r.text
    for wo in wos:
        job = await dispatch.job(wo)
        assert job["state"] == "scheduled"
        events_ = [d["event_type"] for d in await dispatch.decisions(wo)]
        assert events_[:2] == ["JobScheduled", "JobDispatched"]
    moved = r.json()["moved"]
    rescheduled = [
        wo
        for wo in wos
        if "JobRescheduled" in [d["event_type"] for d in await dispatch.decisions(wo)]
    ]
    assert len(rescheduled) == moved


async def test_a_refused_profile_is_a_422_shaped_like_any_validation_error(dispatch):
    # The OpenAPI document declares every 422 as FastAPI's validation error (a list of
    # {loc, msg, type}); domain refusals answer in the same shape (found by schemathesis).
    body = technician("tech-mars", MANCHESTER) | {"time_zone": "Mars/Olympus_Mons"}
    r = await dispatch.client.post("/technicians", json=body, headers=dispatch.office)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "time_zone"]
    assert error["type"] == "value_error" and "Mars/Olympus_Mons" in error["msg"]
