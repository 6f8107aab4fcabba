"""Invoice on completion over real Kafka and PostgreSQL: once, whatever the delivery."""

import pytest
from harness import Story, deploy
from sqlalchemy import delete, func, select

from jobstream.billing.db import generations
from jobstream.billing.db.tables import consumer_tables, events
from jobstream.contracts.field import IncompleteReason

pytestmark = pytest.mark.integration


@pytest.fixture
async def billing(infra, database_factory, namespace_factory):
    deployment = await deploy(infra, database_factory, namespace_factory)
    deployment.start_worker()
    yield deployment
    await deployment.close()


async def test_a_completed_job_is_invoiced_from_its_events(billing):
    story = Story()
    sent = await billing.publish(story.priced_story())
    [invoice] = await billing.wait_for_invoices(story.work_order_id, 1)
    registered, released, logged, used, completed = (e.id for e in sent)
    # Call-out P2 £80.00 + 1.25 h × £65.00 (level 3) + valve £12.50 = £173.75; VAT 20 %.
    assert [(x["kind"], x["net_minor"], x["tax_minor"]) for x in invoice["lines"]] == [
        ("call_out", 8000, 1600),
        ("labour", 8125, 1625),
        ("material", 1250, 250),
    ]
    assert (invoice["net_total_minor"], invoice["tax_total_minor"]) == (17375, 3475)
    assert invoice["gross_total_minor"] == 20850
    assert invoice["invoice_number"] == "INV-000001"
    assert invoice["issued_at"].startswith("2026-11-23T12:00")
    assert invoice["due_on"] == "2026-12-23"
    assert [x["source_event_ids"] for x in invoice["lines"]] == [
        [released, completed],
        [logged, registered],
        [used],
    ]
    assert invoice["pricing_basis"]["trigger_event_id"] == completed
    assert invoice["pricing_basis"]["rate_card_version"] == 1


async def test_redelivered_events_invoice_once(billing):
    story = Story()
    await billing.publish(story.priced_story(), times=2)
    await billing.wait_for_invoices(story.work_order_id, 1)
    other = Story()
    await billing.publish(other.priced_story())
    await billing.wait_for_invoices(other.work_order_id, 1)  # everything before it is applied
    assert len(await billing.invoices(story.work_order_id)) == 1
    async with billing.engine.connect() as conn:
        appended = await conn.scalar(select(func.count()).select_from(events))
    assert appended == 2


async def test_replaying_the_log_from_offset_zero_invoices_nothing_again(billing):
    story = Story()
    await billing.publish(story.priced_story())
    [before] = await billing.wait_for_invoices(story.work_order_id, 1)
    await billing.stop_worker()
    async with billing.engine.connect() as conn:
        generation = await generations.active(conn)
    scoped = generations.engine_for(billing.engine, generation)
    async with scoped.begin() as conn:
        await conn.execute(delete(consumer_tables.offsets))
        await conn.execute(delete(consumer_tables.processed))
    billing.start_worker()
    marker = Story()
    await billing.publish(marker.priced_story())
    await billing.wait_for_invoices(marker.work_order_id, 1, timeout=90)
    assert await billing.invoices(story.work_order_id) == [before]
    assert (await billing.invoices(marker.work_order_id))[0]["invoice_number"] == "INV-000002"


async def test_a_completion_seen_before_its_work_order_waits_for_it(billing):
    story = Story()
    await billing.publish(
        [story.technician_registered(), story.time_logged(75), story.completed(75)]
    )
    job = await billing.wait_for_job(story.work_order_id, "awaiting_inputs")
    assert job["waiting_for"] == ["details"]
    await billing.publish([story.released()])
    [invoice] = await billing.wait_for_invoices(story.work_order_id, 1)
    assert invoice["gross_total_minor"] == (8000 + 8125) * 12 // 10


async def test_a_material_corrected_after_issue_is_credited_and_invoiced_again(billing):
    story = Story()
    await billing.publish(story.priced_story())
    [first] = await billing.wait_for_invoices(story.work_order_id, 1)
    await billing.publish([story.material_corrected(0)])
    invoices = await billing.wait_for_invoices(story.work_order_id, 2)
    [credit] = await billing.credit_notes(story.work_order_id)
    replacement = next(i for i in invoices if i["invoice_id"] != first["invoice_id"])
    assert credit["invoice_id"] == first["invoice_id"]
    assert credit["gross_total_minor"] == first["gross_total_minor"]
    assert credit["credit_note_number"] == "CRN-000001"
    assert replacement["replaces_invoice_id"] == first["invoice_id"]
    assert replacement["gross_total_minor"] == first["gross_total_minor"] - 1500
    stored_first = next(i for i in invoices if i["invoice_id"] == first["invoice_id"])
    assert stored_first["status"] == "credited"
    assert stored_first["lines"] == first["lines"], "an issued invoice is never edited"


async def test_a_reopened_job_completed_again_with_more_time_is_corrected(billing):
    story = Story()
    await billing.publish(story.priced_story())
    await billing.wait_for_invoices(story.work_order_id, 1)
    await billing.publish(
        [story.reopened(), story.time_logged(60, entry="t2"), story.completed(135)]
    )
    invoices = await billing.wait_for_invoices(story.work_order_id, 2)
    newest = max(invoices, key=lambda i: i["invoice_number"])
    labour = next(x for x in newest["lines"] if x["kind"] == "labour")
    assert labour["quantity_milli"] == 2250  # 135 min
    assert len(await billing.credit_notes(story.work_order_id)) == 1


async def test_an_incomplete_visit_is_invoiced_only_when_the_terms_charge_it(billing):
    no_access, parts = Story(), Story()
    await billing.publish(
        [
            no_access.technician_registered(),
            no_access.released(),
            no_access.incomplete(IncompleteReason.NO_ACCESS, 15),
        ]
    )
    await billing.publish(
        [parts.released(), parts.incomplete(IncompleteReason.PARTS_UNAVAILABLE, 30)]
    )
    [invoice] = await billing.wait_for_invoices(no_access.work_order_id, 1)
    assert invoice["net_total_minor"] == 9625  # call-out £80.00 + 15 min × £65.00 = £16.25
    await billing.wait_for_job(parts.work_order_id, "not_charged")
    assert await billing.invoices(parts.work_order_id) == []
