"""Billing's HTTP API over real PostgreSQL and Kafka: roles, payments, export, pricing."""

import httpx
import pytest
from harness import Story, deploy

from jobstream.auth import Role, mint_token
from jobstream.billing.app import definition
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def api(infra, database_factory, namespace_factory):
    billing = await deploy(infra, database_factory, namespace_factory)
    billing.start_worker()
    story = Story(customer_id="cust-a")
    await billing.publish(story.priced_story())
    [invoice] = await billing.wait_for_invoices(story.work_order_id, 1)
    settings = ServiceSettings(
        database=DatabaseSettings(DATABASE_URL=billing.url), auth=AuthSettings()
    )
    app = create_app(definition(), frozenset({ProcessRole.API}), settings)

    def headers(role: Role, **scope: str) -> dict[str, str]:
        token = mint_token(settings.auth, subject=f"u-{role.value}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        yield client, headers, invoice
    await app.state.runtime.engine.dispose()
    await billing.close()


async def test_reading_invoices_needs_a_token_and_an_office_or_customer_role(api):
    client, headers, _ = api
    assert (await client.get("/invoices")).status_code == 401
    tech = headers(Role.TECHNICIAN, technician_id="tech-gas")
    assert (await client.get("/invoices", headers=tech)).status_code == 403
    assert len((await client.get("/invoices", headers=headers(Role.ANALYST))).json()) == 1


async def test_a_customer_sees_only_their_own_invoices(api):
    client, headers, invoice = api
    mine = headers(Role.CUSTOMER, customer_id="cust-a")
    theirs = headers(Role.CUSTOMER, customer_id="cust-b")
    assert len((await client.get("/invoices", headers=mine)).json()) == 1
    assert (await client.get("/invoices", headers=theirs)).json() == []
    url = f"/invoices/{invoice['invoice_number']}"
    # Another customer's invoice answers as if it did not exist (ADR 0006).
    assert (await client.get(url, headers=theirs)).status_code == 404
    assert (await client.get("/invoices?customer_id=cust-a", headers=theirs)).status_code == 403


async def test_marking_paid_records_the_payment_once_per_idempotency_key(api):
    client, headers, invoice = api
    url = f"/invoices/{invoice['invoice_id']}/payments"
    office = {**headers(Role.DISPATCHER), "Idempotency-Key": "pay-1"}
    body = {"paid_at": "2026-11-24T09:00:00Z", "reference": "BACS 1"}
    first = await client.post(url, json=body, headers=office)
    again = await client.post(url, json=body, headers=office)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["status"] == "paid"
    assert len(first.json()["payments"]) == 1
    other = {**headers(Role.DISPATCHER), "Idempotency-Key": "pay-2"}
    assert (await client.post(url, json=body, headers=other)).status_code == 409


async def test_a_payment_larger_than_what_is_owed_is_refused_naming_the_field(api):
    client, headers, invoice = api
    url = f"/invoices/{invoice['invoice_id']}/payments"
    answer = await client.post(
        url,
        json={"amount_minor": invoice["gross_total_minor"] + 1},
        headers=headers(Role.DISPATCHER),
    )
    assert answer.status_code == 422
    assert "amount_minor" in answer.text
    bad = await client.post(url, json={"amount_minor": -5}, headers=headers(Role.DISPATCHER))
    assert bad.status_code == 422 and "amount_minor" in bad.text


async def test_the_xero_export_has_one_row_per_line_in_the_template_columns(api):
    client, headers, invoice = api
    answer = await client.get("/exports/xero/invoices.csv", headers=headers(Role.ANALYST))
    assert answer.status_code == 200
    rows = answer.text.strip().split("\r\n")
    assert rows[0].startswith("*ContactName,EmailAddress,POAddressLine1")
    assert len(rows) == 1 + len(invoice["lines"])
    assert all(invoice["invoice_number"] in row for row in rows[1:])
    assert "20% (VAT on Income)" in rows[1] and "80.00" in rows[1]


async def test_a_price_change_cannot_take_effect_in_the_past(api):
    client, headers, _ = api
    entry = {"description": "Valve", "pricing": "fixed", "unit_price_minor": 1500}
    admin = headers(Role.ADMIN)
    past = {"effective_from": "2026-01-01T00:00:00Z", "entry": entry}
    refused = await client.post("/pricing/price-book/VALVE-15", json=past, headers=admin)
    assert refused.status_code == 422 and "effective_from" in refused.text
    new_part = await client.post("/pricing/price-book/NEW-PART", json=past, headers=admin)
    assert new_part.status_code == 201
    office = headers(Role.DISPATCHER)
    assert (
        await client.post("/pricing/price-book/X", json=past, headers=office)
    ).status_code == 403
