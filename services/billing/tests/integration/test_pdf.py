"""Printed invoices and credit notes over real Kafka and PostgreSQL.

What they say, who may fetch them, and that a rebuilt projection prints the same bytes.
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pypdf
import pytest
from harness import Billing, Story, deploy
from sqlalchemy import func, select

from jobstream.auth import Role, mint_token
from jobstream.billing.app import definition
from jobstream.billing.db import queries
from jobstream.billing.db.tables import events
from jobstream.billing.domain.config import PriceBookEntry
from jobstream.billing.rebuild import rebuild
from jobstream.contracts.common import WorkOrderDetails
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

CUSTOMER = "cust-pdf"
CUSTOMER_NAME = "Deansgate Dental Practice"
# Insulation at the reduced rate, so one invoice carries two VAT rates.
INSULATION = PriceBookEntry.model_validate(
    {
        "description": "Pipe insulation, 2 m",
        "pricing": "fixed",
        "unit_price_minor": 1333,
        "tax_rate_bp": 500,
    }
)


class NamedStory(Story):
    """A job whose work order names its customer."""

    def details(self) -> WorkOrderDetails:
        return super().details().model_copy(update={"customer_name": CUSTOMER_NAME})


def pounds(minor: int) -> str:
    """The test's own reading of an amount, independent of billing's formatter."""
    return f"£{Decimal(minor) / 100:,.2f}"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """The text with every run of whitespace as one space (a long description wraps)."""
    return " ".join(text.split())


@dataclass
class Printed:
    billing: Billing
    client: httpx.AsyncClient
    auth: AuthSettings
    mixed: dict[str, Any]  # an invoice at 20 % and 5 %
    credited: dict[str, Any]  # an invoice credited after a correction
    replacement: dict[str, Any]
    credit: dict[str, Any]

    def headers(self, role: Role, **scope: str) -> dict[str, str]:
        token = mint_token(self.auth, subject=f"u-{role.value}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    @property
    def office(self) -> dict[str, str]:
        return self.headers(Role.DISPATCHER)

    async def pdf(self, url: str) -> bytes:
        answer = await self.client.get(url, headers=self.office)
        assert answer.status_code == 200, answer.text
        return answer.content


@pytest.fixture
async def printed(infra, database_factory, namespace_factory):
    billing = await deploy(infra, database_factory, namespace_factory)
    async with billing.engine.begin() as conn:
        # A part priced for the first time may take effect in the past (ADR 0041).
        await queries.add_price_book_entry(
            conn, "INSUL-5", INSULATION, datetime(2020, 1, 1, tzinfo=UTC)
        )
    billing.start_worker()
    billing.start_relay()
    mixed, corrected = NamedStory(customer_id=CUSTOMER), NamedStory(customer_id=CUSTOMER)
    await billing.publish(
        [
            mixed.technician_registered(),
            mixed.released(),
            mixed.time_logged(75),
            mixed.material_used("VALVE-15", 1000),
            mixed.material_used("INSUL-5", 3000, entry="m2"),
            mixed.completed(75),
        ]
    )
    await billing.publish(corrected.priced_story()[1:])
    [first] = await billing.wait_for_invoices(corrected.work_order_id, 1)
    await billing.publish([corrected.material_corrected(0)])
    [invoice] = await billing.wait_for_invoices(mixed.work_order_id, 1)
    both = await billing.wait_for_invoices(corrected.work_order_id, 2)
    [credit] = await billing.credit_notes(corrected.work_order_id)
    settings = ServiceSettings(
        database=DatabaseSettings(DATABASE_URL=billing.url), auth=AuthSettings()
    )
    app = create_app(definition(), frozenset({ProcessRole.API}), settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        yield Printed(
            billing=billing,
            client=client,
            auth=settings.auth,
            mixed=invoice,
            credited=next(i for i in both if i["invoice_id"] == first["invoice_id"]),
            replacement=next(i for i in both if i["invoice_id"] != first["invoice_id"]),
            credit=credit,
        )
    await app.state.runtime.engine.dispose()
    await billing.close()


async def test_an_invoice_prints_its_job_lines_vat_per_rate_and_totals(printed):
    invoice = printed.mixed
    answer = await printed.client.get(
        f"/invoices/{invoice['invoice_number']}.pdf", headers=printed.office
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'inline; filename="invoice-{invoice["invoice_number"]}.pdf"'
    )
    text = text_of(answer.content)
    for expected in (
        "Jobstream Demo Heating & Electrical Ltd",
        "VAT registration no.",
        invoice["invoice_number"],
        CUSTOMER_NAME,
        f"Account {CUSTOMER}",
        "1 Deansgate",
        invoice["work_order_id"],
        "Boiler service",
        "Completed",
        "23 Nov 2026",  # the story completes at 12:00 on 23 November
        "Due date",
        "Payment terms: 30 days",
        "Unpaid",
    ):
        assert expected in text, expected
    for line in invoice["lines"]:
        assert line["description"] in flat(text)
        assert pounds(line["net_minor"]) in text
    bands: dict[int, list[int]] = {}
    for line in invoice["lines"]:
        band = bands.setdefault(line["tax_rate_basis_points"], [0, 0])
        band[0] += line["net_minor"]
        band[1] += line["tax_minor"]
    assert sorted(bands) == [500, 2000]
    rows = text.splitlines()
    for rate, (net, vat) in bands.items():
        label = f"{rate // 100}%"
        at = rows.index(label, rows.index("VAT rate"))
        assert rows[at + 1 : at + 4] == [
            f" {pounds(net)}",
            f" {pounds(vat)}",
            f" {pounds(net + vat)}",
        ], rows[at : at + 4]
    for total in ("net_total_minor", "tax_total_minor", "gross_total_minor"):
        assert pounds(invoice[total]) in text
    assert f"Amount due\n {pounds(invoice['gross_total_minor'])}" in text


async def test_a_credit_note_prints_the_invoice_it_credits_and_its_replacement(printed):
    credit, credited = printed.credit, printed.credited
    answer = await printed.client.get(
        f"/credit-notes/{credit['credit_note_number']}.pdf", headers=printed.office
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    disposition = answer.headers["content-disposition"]
    assert f'filename="credit-note-{credit["credit_note_number"]}.pdf"' in disposition
    text = flat(text_of(answer.content))
    for expected in (
        "CREDIT NOTE",
        credit["credit_note_number"],
        f"{credited['invoice_number']} of 23 Nov 2026",
        printed.replacement["invoice_number"],
        CUSTOMER_NAME,
        f"Total credited {pounds(credit['gross_total_minor'])}",
        pounds(credit["tax_total_minor"]),
    ):
        assert expected in text, expected
    assert credit["reason"] in text
    for line in credit["lines"]:
        assert line["description"] in text


async def test_a_credited_invoice_and_its_replacement_say_so(printed):
    old = text_of(await printed.pdf(f"/invoices/{printed.credited['invoice_id']}.pdf"))
    assert "Credited" in old and printed.credit["credit_note_number"] in old
    assert "Amount due\n £0.00" in old
    new = text_of(await printed.pdf(f"/invoices/{printed.replacement['invoice_number']}.pdf"))
    assert f"Replaces invoice\n{printed.credited['invoice_number']}" in new


async def test_a_paid_invoice_prints_the_payment_received(printed):
    invoice = printed.mixed
    paid = await printed.client.post(
        f"/invoices/{invoice['invoice_id']}/payments",
        json={"paid_at": "2026-11-24T10:00:00Z", "reference": "BACS 4471"},
        headers=printed.office,
    )
    assert paid.status_code == 201, paid.text
    text = text_of(await printed.pdf(f"/invoices/{invoice['invoice_number']}.pdf"))
    gross = pounds(invoice["gross_total_minor"])
    assert "Status\n Paid" in text
    assert f"Received 24 Nov 2026 (BACS 4471)\n {gross}" in text
    assert "Amount due\n £0.00" in text
    assert "Sort code" not in text  # nothing left to pay, so no bank details


async def test_a_customer_fetches_only_their_own_documents(printed):
    own = printed.headers(Role.CUSTOMER, customer_id=CUSTOMER)
    other = printed.headers(Role.CUSTOMER, customer_id="cust-someone-else")
    technician = printed.headers(Role.TECHNICIAN, technician_id="tech-gas")
    for url in (
        f"/invoices/{printed.mixed['invoice_number']}.pdf",
        f"/invoices/{printed.mixed['invoice_id']}.pdf",
        f"/credit-notes/{printed.credit['credit_note_number']}.pdf",
        f"/credit-notes/{printed.credit['credit_note_id']}.pdf",
    ):
        assert (await printed.client.get(url, headers=own)).status_code == 200, url
        assert (await printed.client.get(url, headers=printed.headers(Role.ANALYST))).is_success
        # Another customer's document answers as one that does not exist (ADR 0006).
        refused = await printed.client.get(url, headers=other)
        assert refused.status_code == 404, url
        assert refused.headers["content-type"] == "application/json"
        assert (await printed.client.get(url, headers=technician)).status_code == 403, url
        assert (await printed.client.get(url)).status_code == 401, url
    for missing in ("/invoices/INV-999999.pdf", "/credit-notes/CRN-999999.pdf"):
        assert (await printed.client.get(missing, headers=printed.office)).status_code == 404


async def test_the_json_invoice_route_still_answers_beside_the_pdf(printed):
    number = printed.mixed["invoice_number"]
    answer = await printed.client.get(f"/invoices/{number}", headers=printed.office)
    assert answer.status_code == 200 and answer.json()["invoice_number"] == number


async def test_a_rebuilt_projection_prints_the_same_bytes(printed):
    urls = [
        f"/invoices/{printed.mixed['invoice_number']}.pdf",
        f"/invoices/{printed.credited['invoice_number']}.pdf",
        f"/invoices/{printed.replacement['invoice_number']}.pdf",
        f"/credit-notes/{printed.credit['credit_note_number']}.pdf",
    ]
    paid = await printed.client.post(
        f"/invoices/{printed.mixed['invoice_id']}/payments",
        json={"amount_minor": 1000, "paid_at": "2026-11-24T10:00:00Z", "reference": "part"},
        headers=printed.office,
    )
    assert paid.status_code == 201, paid.text
    before = [await printed.pdf(url) for url in urls]
    assert [await printed.pdf(url) for url in urls] == before

    async def all_published() -> bool:
        async with printed.billing.engine.connect() as conn:
            waiting = await conn.scalar(
                select(func.count()).select_from(events).where(events.c.published_at.is_(None))
            )
        return waiting == 0

    await wait_until(all_published, message="billing events published")
    report = await rebuild(
        printed.billing.engine,
        bootstrap_servers=printed.billing.bootstrap,
        namespace=printed.billing.namespace,
        timeout_s=120,
    )
    assert report.switched and report.drift == []
    assert [await printed.pdf(url) for url in urls] == before
