"""Planned maintenance without duplicates; next service and follow-ups from field events.

The field events are applied exactly once under redelivery.
"""

import asyncio
import os
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from jobstream.contracts.common import Priority
from jobstream.contracts.field import (
    IncompleteReason,
    JobCompleted,
    JobIncomplete,
    TechnicianArrived,
)
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

PLAN = {
    "plan_id": "plan-dd-boiler",
    "site_id": "site-dd",
    "asset_id": "asset-dd-boiler",
    "job_type": "boiler_service",
    "starts_on": "2027-03-01",
    "every_months": 12,
    "lead_days": 14,
}


async def raise_due(intake, as_of: str):
    response = await intake.post("/maintenance-plans/raise-due", {"as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()


async def planned_orders(intake):
    return (await intake.get("/work-orders", params={"channel": "planned"})).json()


async def test_a_plan_raises_its_request_once_when_due(intake):
    await intake.seed()
    plan = await intake.post("/maintenance-plans", PLAN)
    assert plan.json()["next_due_on"] == "2027-03-01"
    assert await raise_due(intake, "2027-02-01") == []  # not yet within 14 days
    (raised,) = await raise_due(intake, "2027-02-20")
    assert raised["created"] is True
    assert await raise_due(intake, "2027-02-20") == []
    (order,) = await planned_orders(intake)
    assert order["maintenance_plan_id"] == "plan-dd-boiler"
    assert order["priority"] == "P4"
    (logged,) = await intake.published(order["work_order_id"], "RequestLogged")
    assert logged.data.channel == "planned"
    assert logged.data.asset is not None
    next_due = (await intake.get("/maintenance-plans/plan-dd-boiler")).json()["next_due_on"]
    assert next_due == "2028-03-01"


async def test_concurrent_runs_raise_each_occurrence_once(intake):
    await intake.seed()
    await intake.post("/maintenance-plans", PLAN)
    await intake.post("/maintenance-plans", PLAN | {"plan_id": "plan-2", "every_months": 6})
    runs = await asyncio.gather(*(raise_due(intake, "2027-09-20") for _ in range(4)))
    created = [r for run in runs for r in run if r["created"]]
    # plan-dd-boiler: 2027-03-01; plan-2: 2027-03-01 and 2027-09-01.
    assert sorted((r["plan_id"], r["due_on"]) for r in created) == [
        ("plan-2", "2027-03-01"),
        ("plan-2", "2027-09-01"),
        ("plan-dd-boiler", "2027-03-01"),
    ]
    assert len(await planned_orders(intake)) == 3


async def test_the_cron_command_raises_due_requests(intake):
    await intake.seed()
    await intake.post("/maintenance-plans", PLAN)
    env = {
        **os.environ,
        "DATABASE_URL": intake.database_url,
        "JOBSTREAM_NAMESPACE": intake.namespace,
    }
    command = [
        sys.executable,
        "-m",
        "jobstream.intake",
        "raise-due-maintenance",
        "--as-of",
        "2027-02-25",
    ]

    async def run() -> str:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        assert process.returncode == 0
        return out.decode()

    assert "plan-dd-boiler due 2027-03-01" in await run()
    assert await run() == ""  # a rerun raises nothing
    assert len(await planned_orders(intake)) == 1


async def test_an_rrule_plan(intake):
    await intake.seed()
    rule = PLAN | {
        "plan_id": "plan-rule",
        "every_months": None,
        "rule": "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1MO",
    }
    created = await intake.post("/maintenance-plans", rule)
    assert created.json()["next_due_on"] == "2027-03-01"
    bad = await intake.post("/maintenance-plans", rule | {"plan_id": "p-bad", "rule": "FREQ=NEVER"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "rule"]


def completed(order, **kw):
    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    return JobCompleted(
        work_order_id=order["work_order_id"],
        technician_id="tech-amir",
        device_time=at,
        received_at=at,
        customer_id=order["customer_id"],
        site_id=order["site_id"],
        asset_id=order["asset_id"],
        job_type=order["job_type"],
        priority=Priority(order["priority"]),
        completed_at=at,
        labour_minutes=60,
        work_done="Replaced the PCB and tested",
        first_time_fix=True,
        **kw,
    )


async def test_a_completion_with_next_service_due_sets_the_next_planned_service(intake):
    await intake.seed()
    order = await intake.log(asset_id="asset-dd-boiler", job_type="boiler_service", release=True)
    await intake.from_field(completed(order, next_service_due=date(2027, 11, 24)))

    async def plan():
        plans = (
            await intake.get("/maintenance-plans", params={"asset_id": "asset-dd-boiler"})
        ).json()
        return plans or None

    (found,) = await wait_until(plan, timeout=30, message="next service plan")
    assert found["next_due_on"] == "2027-11-24"
    assert found["next_due_source"] == f"job:{order['work_order_id']}"
    (raised,) = await raise_due(intake, "2027-11-20")
    assert raised["due_on"] == "2027-11-24"
    assert (await intake.get(f"/maintenance-plans/{found['plan_id']}")).json()[
        "next_due_on"
    ] is None


async def test_a_completion_on_a_planned_job_moves_its_plan(intake):
    await intake.seed()
    await intake.post("/maintenance-plans", PLAN)
    (raised,) = await raise_due(intake, "2027-02-20")
    order = (await intake.get(f"/work-orders/{raised['work_order_id']}")).json()
    await intake.from_field(completed(order, next_service_due=date(2028, 1, 15)))

    async def moved():
        plan = (await intake.get("/maintenance-plans/plan-dd-boiler")).json()
        return plan if plan["next_due_on"] == "2028-01-15" else None

    assert (await wait_until(moved, timeout=30, message="plan moved"))[
        "next_due_source"
    ].startswith("job:")


async def follow_ups_of(intake, work_order_id):
    orders = (await intake.get("/work-orders", params={"channel": "follow_up"})).json()
    return [o for o in orders if o["follow_up_of"] == work_order_id]


async def test_a_completion_needing_follow_up_raises_exactly_one_linked_request_when_redelivered(
    intake,
):
    await intake.seed()
    order = await intake.log(release=True)
    event = completed(order, follow_up_needed=True, follow_up_reason="Flue needs replacing")
    (envelope,) = await intake.from_field(event, times=3)

    async def finished():
        row = (await intake.get(f"/work-orders/{order['work_order_id']}")).json()
        return row if row["status"] == "completed" else None

    await wait_until(finished, timeout=30, message="completion applied")
    (follow_up,) = await wait_until(
        lambda: follow_ups_of(intake, order["work_order_id"]), timeout=30
    )
    assert "Flue needs replacing" in follow_up["description"]
    assert follow_up["priority"] == order["priority"]
    (logged,) = await intake.published(follow_up["work_order_id"], "RequestLogged")
    assert logged.causation_id == envelope.id
    assert logged.correlation_id == envelope.correlation_id
    assert logged.data.follow_up_of == order["work_order_id"]
    assert logged.data.logged_at == event.completed_at


async def test_an_incomplete_visit_raises_a_follow_up(intake):
    await intake.seed()
    order = await intake.log(release=True)
    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    await intake.from_field(
        JobIncomplete(
            work_order_id=order["work_order_id"],
            technician_id="tech-amir",
            device_time=at,
            received_at=at,
            customer_id="cust-dd",
            site_id="site-dd",
            job_type="boiler_repair",
            priority=Priority.P2,
            ended_at=at,
            reason=IncompleteReason.PARTS_UNAVAILABLE,
            detail="PCB on order",
        )
    )
    (follow_up,) = await wait_until(
        lambda: follow_ups_of(intake, order["work_order_id"]), timeout=30
    )
    assert "parts unavailable: PCB on order" in follow_up["description"]
    original = (await intake.get(f"/work-orders/{order['work_order_id']}")).json()
    assert original["status"] == "incomplete"


async def test_sla_at_risk_and_previous_jobs_in_the_detail(intake):
    await intake.seed()
    done = await intake.log(asset_id="asset-dd-boiler", release=True)
    await intake.from_field(completed(done))
    urgent = await intake.log(
        asset_id="asset-dd-boiler",
        priority="P1",
        description="Gas smell near the boiler",
        release=True,
    )
    calm = await intake.log(priority="P4", description="Annual check of radiator valves")

    async def history():
        detail = (await intake.get(f"/work-orders/{urgent['work_order_id']}")).json()
        return detail if detail["asset_history"] else None

    detail = await wait_until(history, timeout=30, message="previous job")
    assert [j["work_order_id"] for j in detail["site_history"]] == [done["work_order_id"]]
    assert detail["asset_history"][0]["first_time_fix"] is True
    assert detail["details"]["required_certifications"] == ["gas_safe"]

    at_risk = (await intake.get("/work-orders", params={"sla_at_risk": "true"})).json()
    assert [o["work_order_id"] for o in at_risk] == [
        urgent["work_order_id"]
    ]  # P1: respond within 1 h
    assert at_risk[0]["sla_at_risk"] is True
    by_priority = (await intake.get("/work-orders", params={"priority": ["P4", "P1"]})).json()
    assert {o["work_order_id"] for o in by_priority} == {
        urgent["work_order_id"],
        calm["work_order_id"],
    }
    by_status = (await intake.get("/work-orders", params={"status": "completed"})).json()
    assert [o["work_order_id"] for o in by_status] == [done["work_order_id"]]
    mine = (await intake.get("/work-orders", params={"customer_id": "cust-other"})).json()
    assert mine == []

    arrived = datetime.now(UTC) - timedelta(minutes=1)
    await intake.from_field(
        TechnicianArrived(
            work_order_id=urgent["work_order_id"],
            technician_id="tech-amir",
            device_time=arrived,
            received_at=arrived,
        )
    )

    async def responded():
        row = (await intake.get(f"/work-orders/{urgent['work_order_id']}")).json()
        return row if row["responded_at"] else None

    assert (await wait_until(responded, timeout=30))["technician_id"] == "tech-amir"
