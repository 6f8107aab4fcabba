"""Billing's routes: invoices, credit notes, payments, Xero export, jobs, pricing, generations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.api.commands import run_command
from jobstream.auth import Principal, Role, require_roles
from jobstream.billing import handlers, printing
from jobstream.billing.api.schemas import (
    NewContractVersion,
    NewPriceBookEntry,
    NewRateCard,
    RecordPayment,
)
from jobstream.billing.config import BillingSettings, get_settings
from jobstream.billing.db import generations, queries
from jobstream.billing.db.tables import idempotency_keys
from jobstream.billing.domain import commands
from jobstream.billing.domain.xero import credit_notes_csv, invoices_csv
from jobstream.errors import NotFoundError
from jobstream.service import Runtime, get_runtime

Reader = require_roles(Role.DISPATCHER, Role.ANALYST, Role.CUSTOMER)
OfficeReader = require_roles(Role.DISPATCHER, Role.ANALYST)
Cashier = require_roles(Role.DISPATCHER)
Admin = require_roles(Role.ADMIN)
Limit = Annotated[int, Query(ge=1, le=1000)]
Command = TypeVar("Command")


async def active_engine(runtime: Runtime) -> AsyncEngine:
    """The engine on the active generation's tables; 503 until one is active."""
    async with runtime.engine.connect() as probe:
        generation = await generations.active(probe)
    if generation is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="billing is starting")
    return generations.engine_for(runtime.engine, generation)


@asynccontextmanager
async def projection(runtime: Runtime) -> AsyncIterator[AsyncConnection]:
    """A connection on the active generation's tables."""
    async with (await active_engine(runtime)).connect() as conn:
        yield conn


def _customer_scope(principal: Principal, customer_id: str | None) -> str | None:
    if principal.role is Role.CUSTOMER:
        if customer_id not in (None, principal.customer_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")
        return principal.customer_id
    return customer_id


# --------------------------------------------------------------------------------------
# invoices and credit notes

invoices_router = APIRouter(tags=["invoices"])


@dataclass(frozen=True)
class InvoiceFilter:
    """The query of ``GET /invoices``: which invoices, and which page of them."""

    work_order_id: str | None = None
    customer_id: str | None = None
    invoice_status: Annotated[
        str | None, Query(alias="status", pattern="^(issued|part_paid|paid|credited)$")
    ] = None
    issued_from: date | None = None
    issued_to: date | None = None
    limit: Limit = 100
    offset: Annotated[int, Query(ge=0)] = 0


@invoices_router.get("/invoices", summary="Invoices, newest first, filtered")
async def list_invoices(
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    query: Annotated[InvoiceFilter, Depends()],
) -> list[dict[str, Any]]:
    """Customers see only their own invoices."""
    async with projection(runtime) as conn:
        return await queries.list_invoices(
            conn,
            customer_id=_customer_scope(principal, query.customer_id),
            work_order_id=query.work_order_id,
            status=query.invoice_status,
            issued_from=query.issued_from,
            issued_to=query.issued_to,
            limit=query.limit,
            offset=query.offset,
        )


def _visible(found: dict[str, Any] | None, principal: Principal, what: str) -> dict[str, Any]:
    """The document, unless it does not exist or is another customer's.

    Both answer 404, so the answer does not tell whether the id exists (ADR 0006).
    """
    if found is None or (
        principal.role is Role.CUSTOMER and found["customer_id"] != principal.customer_id
    ):
        raise NotFoundError(f"no such {what}")
    return found


async def _with_payments(conn: AsyncConnection, invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice with the payments recorded against it."""
    invoice["payments"] = await queries.payments_of(conn, invoice["invoice_id"])
    return invoice


class PdfResponse(Response):
    """Documents the printed invoices and credit notes as application/pdf."""

    media_type = "application/pdf"


PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document as an A4 PDF, the same bytes every time it is asked for "
        "in the same state",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    404: {"description": "No such document, or another customer's"},
}


async def _billing_settings(request: Request) -> BillingSettings:
    """Read from the environment once per process, not on every request."""
    settings: BillingSettings | None = getattr(request.app.state, "billing_settings", None)
    if settings is None:
        settings = request.app.state.billing_settings = get_settings()
    return settings


def _pdf(body: bytes, filename: str) -> PdfResponse:
    return PdfResponse(
        body,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # Printed with payments as they stand: a cache must ask again.
            "Cache-Control": "private, no-cache",
        },
    )


# Before "/invoices/{invoice}", which would otherwise take "INV-000001.pdf" as an id.
@invoices_router.get(
    "/invoices/{invoice}.pdf",
    summary="One invoice as a PDF (by id or number)",
    description="The invoice a customer receives: seller and VAT number, customer and site, "
    "the job,\neach line, VAT per rate, totals, payment terms and what has been paid.",
    response_class=PdfResponse,
    responses=PDF_RESPONSES,
)
async def get_invoice_pdf(
    invoice: str,
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Annotated[BillingSettings, Depends(_billing_settings)],
) -> PdfResponse:
    """The invoice a customer receives, printed (the route's description lists what is on it)."""
    async with projection(runtime) as conn:
        found = _visible(await queries.get_invoice(conn, invoice), principal, "invoice")
        document = await printing.invoice_document(conn, found, printing.seller_of(settings))
    return _pdf(await printing.pdf_of(document), document.filename)


@invoices_router.get("/invoices/{invoice}", summary="One invoice (by id or number)")
async def get_invoice(
    invoice: str,
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """The invoice document with its status and payments."""
    async with projection(runtime) as conn:
        found = _visible(await queries.get_invoice(conn, invoice), principal, "invoice")
        return await _with_payments(conn, found)


@invoices_router.post(
    "/invoices/{invoice}/payments",
    summary="Record a payment (InvoicePaid)",
    description="Mark an invoice paid (in full by default). A retried request with the same\n"
    "Idempotency-Key gets the first answer; a concurrent payment answers 409.",
    status_code=status.HTTP_201_CREATED,
)
async def record_payment(
    invoice: str,
    body: RecordPayment,
    principal: Annotated[Principal, Depends(Cashier)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Run ``RecordPayment`` once per Idempotency-Key; the invoice with its payments."""
    command = commands.RecordPayment.received(
        datetime.now(UTC),
        invoice=invoice,
        recorded_by=principal.subject,
        amount_minor=body.amount_minor,
        paid_at=body.paid_at,
        reference=body.reference,
    )

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        invoice_id = await handlers.record_payment(command, handlers.Context(conn))
        paid = await queries.get_invoice(conn, invoice_id)
        assert paid is not None  # the handler found it in this transaction
        return await _with_payments(conn, paid)

    answer = await run_command(
        await active_engine(runtime),
        idempotency_keys,
        principal,
        command="payment",
        key=idempotency_key,
        payload={"invoice": invoice, **body.model_dump(mode="json")},
        status_code=status.HTTP_201_CREATED,
        work=work,
    )
    paid: dict[str, Any] = answer.onto(response)
    return paid


@invoices_router.get("/credit-notes", summary="Credit notes, newest first")
async def list_credit_notes(
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    work_order_id: str | None = None,
    customer_id: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """Customers see only their own credit notes."""
    async with projection(runtime) as conn:
        return await queries.list_credit_notes(
            conn,
            customer_id=_customer_scope(principal, customer_id),
            work_order_id=work_order_id,
            issued_from=issued_from,
            issued_to=issued_to,
            limit=limit,
        )


@invoices_router.get(
    "/credit-notes/{credit_note}.pdf",
    summary="One credit note as a PDF (by id or number)",
    response_class=PdfResponse,
    responses=PDF_RESPONSES,
)
async def get_credit_note_pdf(
    credit_note: str,
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Annotated[BillingSettings, Depends(_billing_settings)],
) -> PdfResponse:
    """The credit note a customer receives, naming the invoice it credits and the reason."""
    async with projection(runtime) as conn:
        found = _visible(await queries.get_credit_note(conn, credit_note), principal, "credit note")
        document = await printing.credit_note_document(conn, found, printing.seller_of(settings))
    return _pdf(await printing.pdf_of(document), document.filename)


# --------------------------------------------------------------------------------------
# export

exports_router = APIRouter(prefix="/exports/xero", tags=["export"])
CSV = "text/csv; charset=utf-8"


class CsvResponse(Response):
    """Documents the exports as text/csv in the OpenAPI document."""

    media_type = "text/csv"


def _csv(body: str, filename: str) -> Response:
    """An export's rows, as a file to save."""
    return Response(
        body, media_type=CSV, headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


@exports_router.get(
    "/invoices.csv",
    summary="Invoices in Xero's sales invoice import format",
    response_class=CsvResponse,
)
async def export_invoices(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    issued_from: date | None = None,
    issued_to: date | None = None,
) -> Response:
    """One row per invoice line; see docs/adr/0044-xero-export.md for the columns."""
    async with projection(runtime) as conn:
        found = await queries.list_invoices(
            conn, issued_from=issued_from, issued_to=issued_to, limit=100_000
        )
    return _csv(invoices_csv(sorted(found, key=lambda d: d["invoice_number"])), "invoices.csv")


@exports_router.get(
    "/credit-notes.csv", summary="Credit notes in Xero's import format", response_class=CsvResponse
)
async def export_credit_notes(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    issued_from: date | None = None,
    issued_to: date | None = None,
) -> Response:
    """One row per credited line, amounts positive."""
    async with projection(runtime) as conn:
        found = await queries.list_credit_notes(
            conn, issued_from=issued_from, issued_to=issued_to, limit=100_000
        )
    rows = credit_notes_csv(sorted(found, key=lambda d: d["credit_note_number"]))
    return _csv(rows, "credit-notes.csv")


# --------------------------------------------------------------------------------------
# jobs' billing state

jobs_router = APIRouter(prefix="/billing/jobs", tags=["jobs"])


@jobs_router.get("", summary="Jobs by billing status (awaiting_inputs, blocked …)")
async def list_jobs(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    job_status: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """What billing knows of each job; ``blocked`` ones name why."""
    async with projection(runtime) as conn:
        return await queries.list_jobs(conn, job_status, limit)


@jobs_router.get("/{work_order_id}", summary="One job's billing state")
async def get_job(
    work_order_id: str,
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Status, the trigger answered last, and why a job waits or is blocked."""
    async with projection(runtime) as conn:
        found = await queries.get_job(conn, work_order_id)
    if found is None:
        raise NotFoundError("billing knows no such job")
    return found


# --------------------------------------------------------------------------------------
# pricing configuration (versions are immutable; docs/adr/0041)

pricing_router = APIRouter(prefix="/pricing", tags=["pricing"])


@pricing_router.get("", summary="Every rate card, price book and contract version")
async def pricing_overview(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """The whole configuration history."""
    async with runtime.engine.connect() as conn:
        return await queries.pricing_overview(conn)


async def _configure(
    runtime: Runtime,
    handler: Callable[[Command, handlers.Context], Awaitable[int]],
    command: Command,
) -> int:
    """Run a pricing command in a transaction of its own; the version it stored."""
    async with runtime.engine.begin() as conn:
        return await handler(command, handlers.Context(conn))


@pricing_router.post("/rate-cards", status_code=status.HTTP_201_CREATED)
async def add_rate_card(
    body: NewRateCard,
    _principal: Annotated[Principal, Depends(Admin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """A new rate card version, effective now or later."""
    command = commands.AddRateCard(body.rate_card, body.effective_from, body.note)
    version = await _configure(runtime, handlers.add_rate_card, command)
    return {"version": version, "effective_from": body.effective_from}


@pricing_router.post(
    "/price-book/{sku}",
    status_code=status.HTTP_201_CREATED,
    description="A new price for a part. A part never priced before may take effect in the "
    "past\n(jobs blocked on it are then priced); a change of price may not.",
)
async def add_price_book_entry(
    sku: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:\-]{1,100}$")],
    body: NewPriceBookEntry,
    _principal: Annotated[Principal, Depends(Admin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Run ``AddPriceBookEntry``: a new version of a part's price."""
    command = commands.AddPriceBookEntry(sku, body.entry, body.effective_from)
    version = await _configure(runtime, handlers.add_price_book_entry, command)
    return {"sku": sku, "version": version, "effective_from": body.effective_from}


@pricing_router.post(
    "/contracts/{contract_id}",
    status_code=status.HTTP_201_CREATED,
    description="New terms for a contract. A contract on file for the first time may take "
    "effect in\nthe past (jobs blocked on it are then priced); a change of terms may not.",
)
async def add_contract_version(
    contract_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:\-]{1,100}$")],
    body: NewContractVersion,
    _principal: Annotated[Principal, Depends(Admin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Run ``AddContractVersion``: new terms for a contract."""
    command = commands.AddContractVersion(contract_id, body.terms, body.effective_from)
    version = await _configure(runtime, handlers.add_contract_version, command)
    return {"contract_id": contract_id, "version": version, "effective_from": body.effective_from}


# --------------------------------------------------------------------------------------
# generations

generations_router = APIRouter(prefix="/generations", tags=["rebuild"])


@generations_router.get("", summary="Projection generations (rebuilds)")
async def list_generations(
    _principal: Annotated[Principal, Depends(Admin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> list[dict[str, Any]]:
    """Which generation serves, and what each rebuild reported."""
    async with runtime.engine.connect() as conn:
        return await generations.list_all(conn)


def routers() -> list[APIRouter]:
    """Every router of the billing API."""
    return [
        invoices_router,
        exports_router,
        jobs_router,
        pricing_router,
        generations_router,
    ]
