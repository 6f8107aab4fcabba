"""Rebuild from offset zero into a new generation: verified, byte-identical, then switched."""

from datetime import UTC, datetime

import httpx
import pytest
from harness import Story, deploy
from sqlalchemy import func, select

from jobstream.auth import Role, mint_token
from jobstream.billing.app import definition
from jobstream.billing.db import generations, queries
from jobstream.billing.db.tables import events
from jobstream.billing.domain.config import DEFAULT_RATE_CARD, RateCard
from jobstream.billing.rebuild import canonical, rebuild
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def all_published(billing) -> bool:
    async with billing.engine.connect() as conn:
        waiting = await conn.scalar(
            select(func.count()).select_from(events).where(events.c.published_at.is_(None))
        )
    return waiting == 0


async def documents_of(billing, generation) -> dict[str, list[bytes]]:
    async with generations.engine_for(billing.engine, generation).connect() as conn:
        tables = await queries.all_documents(conn)
    return {
        name: [canonical({**row, "document": row["document"]}) for row in rows]
        for name, rows in _jsonable(tables).items()
    }


def _jsonable(tables):
    return {
        name: [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            for row in rows
        ]
        for name, rows in tables.items()
    }


async def test_a_rebuild_reproduces_every_document_byte_for_byte_and_switches(
    infra, database_factory, namespace_factory
):
    billing = await deploy(infra, database_factory, namespace_factory)
    billing.start_worker()
    billing.start_relay()
    try:
        stories = [Story(priority=p) for p in ("P1", "P2", "P3", "P4", "P2", "P1")]
        for story in stories:
            await billing.publish(story.priced_story())
        await billing.publish([stories[1].material_corrected(0)])
        await billing.publish(
            [
                stories[2].reopened(),
                stories[2].time_logged(30, entry="t2"),
                stories[2].completed(105),
            ]
        )
        for story in stories:
            await billing.wait_for_invoices(story.work_order_id, 1)
        await billing.wait_for_invoices(stories[1].work_order_id, 2)
        await billing.wait_for_invoices(stories[2].work_order_id, 2)

        # A payment through the API, so the rebuild also reproduces InvoicePaid.
        settings = ServiceSettings(
            database=DatabaseSettings(DATABASE_URL=billing.url), auth=AuthSettings()
        )
        app = create_app(definition(), frozenset({ProcessRole.API}), settings)
        office = {
            "Authorization": "Bearer "
            + mint_token(settings.auth, subject="cashier", role=Role.DISPATCHER)
        }
        [paid] = await billing.invoices(stories[0].work_order_id)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://billing"
        ) as client:
            answer = await client.post(
                f"/invoices/{paid['invoice_number']}/payments",
                json={"paid_at": "2026-11-24T10:00:00Z", "reference": "BACS 1"},
                headers=office,
            )
        assert answer.status_code == 201, answer.text
        await wait_until(lambda: all_published(billing), message="billing events published")

        # The rate card changes after all this: the rebuild must still price as before.
        async with billing.engine.begin() as conn:
            dearer = RateCard.model_validate(
                {
                    **DEFAULT_RATE_CARD,
                    "call_out_fee_by_priority": {"P1": 20000, "P2": 15000, "P3": 9000, "P4": 5000},
                }
            )
            await queries.add_rate_card(conn, dearer, datetime.now(UTC), "prices up")
            old = await generations.active(conn)
        before = await documents_of(billing, old)
        assert (
            len(before["invoices"]) == 8
            and len(before["credit_notes"]) == 2
            and len(before["payments"]) == 1
        )

        report = await rebuild(
            billing.engine,
            bootstrap_servers=billing.bootstrap,
            namespace=billing.namespace,
            timeout_s=120,
        )

        assert report.drift == []
        assert report.verified == 8
        assert report.switched
        async with billing.engine.connect() as conn:
            new = await generations.active(conn)
        assert new.number == old.number + 1
        assert await documents_of(billing, new) == before

        # The worker follows the switch; the next job is numbered on from the same series.
        later = Story()
        await billing.publish(later.priced_story())
        [invoice] = await billing.wait_for_invoices(later.work_order_id, 1)
        assert invoice["invoice_number"] == "INV-000009"
        assert billing.worker.generation.number == new.number
        await app.state.runtime.engine.dispose()
    finally:
        await billing.close()


async def test_a_rebuild_that_cannot_reprice_an_invoice_does_not_switch(
    infra, database_factory, namespace_factory
):
    billing = await deploy(infra, database_factory, namespace_factory)
    billing.start_worker()
    billing.start_relay()
    try:
        story = Story()
        await billing.publish(story.priced_story())
        await billing.wait_for_invoices(story.work_order_id, 1)
        await wait_until(lambda: all_published(billing), message="billing events published")
        async with billing.engine.begin() as conn:
            # Tampering with a version in place is exactly what versioning forbids.
            await conn.exec_driver_sql(
                "UPDATE rate_cards SET document = "
                "jsonb_set(document, '{call_out_fee_by_priority,P2}', '9999')"
            )
            old = await generations.active(conn)
        report = await rebuild(
            billing.engine,
            bootstrap_servers=billing.bootstrap,
            namespace=billing.namespace,
            timeout_s=120,
        )
        assert [d["problem"] for d in report.drift] == ["re-priced differs"]
        assert not report.switched
        async with billing.engine.connect() as conn:
            assert (await generations.active(conn)).number == old.number
            assert (await generations.get(conn, report.generation)).state == "failed"
    finally:
        await billing.close()
