"""Details, approvals, release, amend, cancel, priority, duplicates and concurrent edits.

All through the API, with the events checked on Kafka.
"""

import asyncio
from datetime import UTC, datetime

import pytest

from jobstream.contracts.common import Channel, Priority
from jobstream.db import async_engine
from jobstream.eventstore.store import ConcurrencyError, EventStore
from jobstream.intake import handlers
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db.tables import events
from jobstream.intake.domain.commands import LogRequest

pytestmark = pytest.mark.integration


async def command(intake, work_order_id, action, body=None, headers=None):
    return await intake.post(f"/work-orders/{work_order_id}/{action}", body or {}, headers)


async def test_the_office_completes_the_details_then_releases_the_whole_job_pack(intake):
    await intake.seed()
    order = await intake.log(asset_id="asset-dd-boiler", contact_id="ct-priya")
    wo = order["work_order_id"]
    part = {"sku": "PCB-WB-1", "description": "Control PCB", "quantity_milli": 1000}
    patch = {"parts": [part], "estimated_duration_minutes": 150, "reason": "PCB fault known"}
    response = await intake.client.patch(f"/work-orders/{wo}", json=patch, headers=intake.office)
    assert response.status_code == 200, response.text
    assert (await command(intake, wo, "release")).json()["status"] == "released"
    events = await intake.published(
        wo, "RequestLogged", "WorkOrderDetailsUpdated", "WorkOrderReleased"
    )
    assert [e.type for e in events] == [
        "RequestLogged",
        "WorkOrderDetailsUpdated",
        "WorkOrderReleased",
    ]
    details = events[-1].data.details
    assert details.parts[0].sku == "PCB-WB-1"
    assert details.estimated_duration_minutes == 150
    assert details.required_certifications == ("gas_safe",)
    assert details.access_instructions == "Staff entrance on Police St"
    assert details.asset is not None and details.contact is not None
    assert events[-1].causation_id is None and events[-1].sequence == 3


async def test_an_amendment_after_release_carries_the_whole_details_and_what_changed(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    patch = {"access_instructions": "Key safe code 4471", "reason": "customer called"}
    response = await intake.client.patch(f"/work-orders/{wo}", json=patch, headers=intake.office)
    assert response.status_code == 200
    amended = (await intake.published(wo, "WorkOrderReleased", "WorkOrderAmended"))[-1].data
    assert amended.changed_fields == ("access_instructions",)
    assert amended.details.access_instructions == "Key safe code 4471"
    assert amended.details.required_skills == ("gas_boiler",)
    assert amended.reason == "customer called"


async def test_removing_gas_safe_is_refused_naming_the_field(intake):
    await intake.seed()
    wo = (await intake.log(job_type="boiler_replacement"))["work_order_id"]
    response = await intake.client.patch(
        f"/work-orders/{wo}", json={"required_certifications": []}, headers=intake.office
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "required_certifications"]


async def test_cancel_after_release_is_published_and_a_second_cancel_is_refused(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    assert (await command(intake, wo, "cancel", {"reason": "fixed by customer"})).status_code == 200
    cancelled = (await intake.published(wo, "WorkOrderCancelled"))[-1].data
    assert cancelled.reason == "fixed by customer"
    again = await command(intake, wo, "cancel", {"reason": "again"})
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]


async def test_invalid_transitions_answer_409_with_the_reason(intake):
    await intake.seed()
    wo = (await intake.log())["work_order_id"]
    approve = await command(intake, wo, "approve", {"note": ""}, intake.admin)
    assert approve.status_code == 409
    assert "not awaiting approval" in approve.json()["detail"]
    await command(intake, wo, "release")
    assert "already released" in (await command(intake, wo, "release")).json()["detail"]
    assert (await command(intake, "wo-missing", "release")).status_code == 404


async def test_a_job_needing_approval_is_released_only_after_the_manager_approves(intake):
    await intake.seed()
    wo = (await intake.log(job_type="boiler_replacement"))["work_order_id"]
    refused = await command(intake, wo, "release")
    assert refused.status_code == 409
    assert "needs approval" in refused.json()["detail"]
    detail = (await intake.get(f"/work-orders/{wo}")).json()
    assert detail["approval_needed"] == ["job type boiler_replacement needs approval"]
    assert (await command(intake, wo, "approval-request")).json()["status"] == "awaiting_approval"
    assert (await command(intake, wo, "approve", {"note": "ok"})).status_code == 403  # dispatcher
    assert (await command(intake, wo, "approve", {"note": "ok"}, intake.admin)).status_code == 200
    assert (await command(intake, wo, "release")).json()["status"] == "released"
    types = [e.type for e in await intake.published(wo, "WorkOrderReleased")]
    assert types == ["RequestLogged", "ApprovalRequested", "WorkOrderApproved", "WorkOrderReleased"]


async def test_an_estimated_value_over_the_limit_needs_approval_and_a_rejection_ends_it(intake):
    await intake.seed()
    wo = (await intake.log())["work_order_id"]
    await intake.client.patch(
        f"/work-orders/{wo}", json={"estimated_value_minor": 250_000}, headers=intake.office
    )
    asked = await command(intake, wo, "approval-request")
    assert "approval limit" in asked.json()["approval_reason"]
    rejected = await command(intake, wo, "reject", {"reason": "quote not accepted"}, intake.admin)
    assert rejected.json()["status"] == "rejected"
    assert (await command(intake, wo, "release")).status_code == 409
    events = await intake.published(wo, "WorkOrderRejected")
    assert events[-1].data.reason == "quote not accepted"


async def test_a_priority_change_recomputes_the_deadlines_and_amends_a_released_job(intake):
    await intake.seed()
    order = await intake.log(priority="P3", release=True)
    wo = order["work_order_id"]
    response = await command(intake, wo, "priority", {"priority": "P1", "reason": "surgery closed"})
    assert response.status_code == 200
    changed = response.json()
    assert changed["priority"] == "P1"
    events = await intake.published(wo, "RequestPriorityChanged", "WorkOrderAmended")
    logged, priority = events[0].data, events[2].data
    assert (priority.resolve_by - logged.logged_at).total_seconds() == 4 * 3600
    assert events[3].data.details.priority == "P1"
    assert events[3].data.changed_fields == ("priority", "resolve_by", "respond_by")


async def test_a_business_hours_contract_sets_the_deadlines_in_the_sites_time_zone(intake):
    await intake.seed()
    contract = {
        "contract_id": "ctr-dd",
        "customer_id": "cust-dd",
        "name": "Gold",
        "coverage": "business_hours",
        "targets": {
            p: {"respond_minutes": 120, "resolve_minutes": 600} for p in ("P1", "P2", "P3", "P4")
        },
        "business_hours": {
            d: {"open": "08:00", "close": "18:00"} for d in ("mon", "tue", "wed", "thu", "fri")
        },
        "valid_from": "2020-01-01",
    }
    assert (await intake.post("/contracts", contract)).status_code == 201
    order = await intake.log()
    assert order["contract_id"] == "ctr-dd"
    (logged,) = await intake.published(order["work_order_id"], "RequestLogged")
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from jobstream.intake.domain.sla import covered_time_between, terms_from_record

    terms = terms_from_record(
        contract["targets"], {str(i): {"open": "08:00", "close": "18:00"} for i in range(1, 6)}
    )
    zone = ZoneInfo("Europe/London")
    e = logged.data
    assert covered_time_between(e.logged_at, e.respond_by, terms.hours, zone) == timedelta(hours=2)
    assert covered_time_between(e.logged_at, e.resolve_by, terms.hours, zone) == timedelta(hours=10)


async def test_a_contract_with_bad_terms_is_refused_naming_the_field(intake):
    await intake.seed()
    contract = {
        "customer_id": "cust-dd",
        "name": "Broken",
        "coverage": "24x7",
        "targets": {"P1": {"respond_minutes": 60, "resolve_minutes": 120}},
        "valid_from": "2026-01-01",
    }
    response = await intake.post("/contracts", contract)
    assert response.status_code == 422
    assert "missing" in response.text


async def test_a_similar_open_request_is_flagged_and_the_office_links_it(intake):
    await intake.seed()
    first = await intake.log(description="No heating or hot water; boiler shows fault F28")
    second = await intake.log(
        description="Boiler showing F28, no heating or hot water", channel="api"
    )
    assert second["possible_duplicate_of"] == first["work_order_id"]
    assert second["similarity"] >= 0.8
    flagged = (await intake.published(second["work_order_id"], "PossibleDuplicateFlagged"))[-1]
    assert flagged.data.possible_duplicate_of == first["work_order_id"]
    assert (await intake.get(f"/work-orders/{first['work_order_id']}")).json()["status"] == "logged"
    linked = await command(
        intake, second["work_order_id"], "duplicate-of", {"duplicate_of": first["work_order_id"]}
    )
    assert linked.json()["status"] == "duplicate"
    await intake.published(second["work_order_id"], "DuplicateLinked")


async def test_a_different_fault_at_the_same_site_is_not_flagged(intake):
    await intake.seed()
    await intake.log(description="No heating or hot water; boiler shows fault F28")
    other = await intake.log(
        description="Socket sparking in the kitchen", job_type="electrical_fault"
    )
    assert other["possible_duplicate_of"] is None


async def test_an_edit_based_on_a_stale_version_answers_409(intake):
    await intake.seed()
    wo = (await intake.log())["work_order_id"]
    etag = (await intake.get(f"/work-orders/{wo}")).headers["ETag"]
    first = await intake.client.patch(
        f"/work-orders/{wo}",
        json={"estimated_duration_minutes": 100},
        headers=intake.office | {"If-Match": etag},
    )
    assert first.status_code == 200
    stale = await intake.client.patch(
        f"/work-orders/{wo}",
        json={"estimated_duration_minutes": 110},
        headers=intake.office | {"If-Match": etag},
    )
    assert stale.status_code == 409
    assert "concurrent edit" in stale.json()["detail"]


async def test_concurrent_edits_of_one_version_let_exactly_one_through(intake):
    await intake.seed()
    wo = (await intake.log())["work_order_id"]
    etag = (await intake.get(f"/work-orders/{wo}")).headers["ETag"]
    responses = await asyncio.gather(
        *(
            intake.client.patch(
                f"/work-orders/{wo}",
                json={"estimated_duration_minutes": 100 + n},
                headers=intake.office | {"If-Match": etag},
            )
            for n in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]


async def test_a_contract_that_does_not_cover_the_site_is_refused_naming_the_field(intake):
    await intake.seed()
    contract = {
        "contract_id": "ctr-other",
        "customer_id": "cust-other",
        "name": "Other's",
        "coverage": "24x7",
        "targets": {
            p: {"respond_minutes": 60, "resolve_minutes": 240} for p in ("P1", "P2", "P3", "P4")
        },
        "valid_from": "2020-01-01",
    }
    assert (await intake.post("/contracts", contract)).status_code == 201
    body = {
        "customer_id": "cust-dd",
        "site_id": "site-dd",
        "contract_id": "ctr-other",
        "description": "x",
        "priority": "P2",
    }
    response = await intake.post("/requests", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "contract_id"]


async def test_a_made_up_id_that_exists_after_all_is_refused_not_overwritten(intake):
    # Logging a request skips loading the stream of the id it has just made up; should
    # that id exist after all, the append still refuses it as a concurrent edit.
    await intake.seed()
    logged = await intake.log()
    wo = logged["work_order_id"]
    engine = async_engine(intake.database_url)
    request = LogRequest(
        work_order_id=wo,
        customer_id="cust-dd",
        site_id="site-dd",
        channel=Channel.PHONE,
        description="Radiator cold in reception",
        priority=Priority.P3,
        logged_by="office-anna",
        logged_at=datetime.now(UTC),
    )
    try:
        with pytest.raises(ConcurrencyError):
            async with engine.begin() as conn:
                await handlers.log_request(
                    request,
                    handlers.Context(conn, EventStore(events), IntakeSettings()),
                    new_stream=True,
                )
    finally:
        await engine.dispose()
    after = (await intake.get(f"/work-orders/{wo}")).json()
    assert after["description"] == logged["description"]
    assert after["version"] == logged["version"]


async def test_a_nul_in_an_id_or_a_filter_is_refused_not_a_server_error(intake):
    listed = await intake.get("/work-orders", params={"customer_id": "\x00O\x05"})
    assert listed.status_code == 422
    assert listed.json()["detail"][0]["loc"] == ["query"]
    one = await intake.get("/work-orders/wo-%00")
    assert one.status_code == 422
    assert one.json()["detail"][0]["loc"] == ["path"]
