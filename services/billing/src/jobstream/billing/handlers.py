"""Billing's decision and its commands: documents for a job's trigger, payments, pricing.

A trigger (a completion, a chargeable incomplete visit, a later correction) is answered
by pricing the job on the facts and configuration in force at it, then appending what
``domain.documents.decide_documents`` plans: an invoice, or a credit note plus a
replacing invoice (docs/adr/0042), numbered and projected in the caller's transaction.
Only the active generation decides (docs/adr/0043); a building one only gathers facts.

The HTTP commands (``domain.commands``) are ``verb(command, ctx)``: a payment is decided by
``domain.documents.decide_payment`` and appended to its work order's stream; a pricing
version is stored unless it would reprice work already priced. Refusals are the shared
ones (``jobstream.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db import queries
from jobstream.billing.db.snapshots import (
    DOCUMENT_SNAPSHOTS,
    FIELD_FACTS,
    field_history_snapshots,
    parse_fact,
)
from jobstream.billing.db.tables import events, generations
from jobstream.billing.domain.commands import (
    AddContractVersion,
    AddPriceBookEntry,
    AddRateCard,
    RecordPayment,
    require_not_retroactive,
)
from jobstream.billing.domain.documents import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    BillingState,
    Party,
    Plan,
    build_credit_note,
    build_invoice,
    decide_documents,
    decide_payment,
    evolve,
    stream_id,
)
from jobstream.billing.domain.history import JobHistory, evolve_history, fold_history
from jobstream.billing.domain.pricing import (
    JobFacts,
    NotChargeable,
    PricedJob,
    PricingBlockedError,
    PricingConfig,
    Technician,
    Trigger,
    price_job,
)
from jobstream.billing.projections import apply_document
from jobstream.commands import CommandHandlers
from jobstream.contracts.base import Event
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import TechnicianProfile
from jobstream.errors import NotFoundError
from jobstream.eventstore.snapshots import Folded
from jobstream.eventstore.store import EventStore, RecordedEvent
from jobstream.ids import derived_id

log = structlog.get_logger(__name__)
store = EventStore(events)

DOCUMENTS = Counter("jobstream_billing_documents_total", "Billing documents issued", ["kind"])
BLOCKED = Counter(
    "jobstream_billing_blocked_total", "Pricing attempts that could not complete", ["reason"]
)


# --------------------------------------------------------------------------------------
# loading what a price needs


@dataclass(frozen=True)
class Waiting:
    """The price needs inputs that have not arrived (details or a technician's profile)."""

    keys: tuple[str, ...]


async def load_history(
    conn: AsyncConnection, generation: int, work_order_id: str, trigger_seq: int
) -> JobHistory:
    """The job's field facts folded up to ``trigger_seq``: its snapshot plus the later facts.

    The snapshot is kept with the pricing's transaction. A trigger is the job's latest fact
    whenever a job is priced (its row lock keeps new facts out meanwhile); should it not be,
    the facts up to it are folded whole.
    """
    history_snapshots = field_history_snapshots(generation)
    tail: list[RecordedEvent] = []

    def step(history: JobHistory, recorded: RecordedEvent) -> JobHistory:
        tail.append(recorded)
        return evolve_history(history, recorded.event_id, recorded.data)

    folded = await history_snapshots.load(
        conn, FIELD_FACTS, work_order_id, initial=JobHistory(), evolve=step
    )
    if folded.version != trigger_seq:
        rows = await queries.field_facts_until(conn, work_order_id, trigger_seq)
        return fold_history((event_id, parse_fact(kind, data)) for event_id, kind, data in rows)
    if tail:
        await history_snapshots.save(
            conn, tail[-1], folded.state, snapshot_version=folded.snapshot_version
        )
    return folded.state


async def load_pricing(
    conn: AsyncConnection, work_order_id: str, trigger_seq: int, generation: int
) -> tuple[JobFacts, PricingConfig] | Waiting | NotChargeable | None:
    """Facts and configuration in force at a trigger.

    None when nothing is to be charged (the job is open again).
    """
    history = await load_history(conn, generation, work_order_id, trigger_seq)
    if history.outcome is None or history.last is None:
        return None
    trigger = history.last
    details = await queries.details_in_force(conn, work_order_id, trigger.at)
    technicians: dict[str, Technician] = {}
    missing: list[str] = [] if details else ["details"]
    for technician_id in sorted(history.technician_ids):
        found = await queries.profile_in_force(conn, technician_id, trigger.at)
        if found is None:
            missing.append(technician_id)
        else:
            technicians[technician_id] = Technician(
                found[0], TechnicianProfile.model_validate(found[1])
            )
    if missing or details is None:
        return Waiting(tuple(missing))
    facts = JobFacts(
        work_order_id=work_order_id,
        details_event_id=details[0],
        details=WorkOrderDetails.model_validate(details[1]),
        outcome=history.outcome,
        trigger=trigger,
        labour=history.labour,
        materials=history.materials,
        technicians=technicians,
    )
    card = await queries.rate_card_in_force(conn, trigger.at)
    if card is None:
        raise PricingBlockedError("no rate card in force")
    contract = None
    if facts.details.contract_id:
        contract = await queries.contract_in_force(conn, facts.details.contract_id, trigger.at)
        if contract is None:
            raise PricingBlockedError(f"contract {facts.details.contract_id} is not on file")
    book = await queries.price_book_in_force(conn, (m.sku for m in facts.materials), trigger.at)
    return facts, PricingConfig(rate_card=card, contract=contract, price_book=book)


def _credit_reason(trigger: Trigger, priced: PricedJob | NotChargeable) -> str:
    if isinstance(priced, NotChargeable):
        return f"Credited in full: {priced.reason}"
    return {
        "JobCompleted": "Credited in full: the job was reopened and completed again",
        "JobIncomplete": "Credited in full: the job was reopened and its visit ended again",
        "MaterialUsageCorrected": "Credited in full: materials used were corrected",
    }.get(trigger.event_type, "Credited in full: the job's records were corrected")


# --------------------------------------------------------------------------------------
# deciding


async def _issue(
    conn: AsyncConnection,
    facts: JobFacts,
    priced: PricedJob | NotChargeable,
    version: int,
    plan: Plan,
    correlation_id: str | None,
) -> list[RecordedEvent]:
    """Number, append and project the plan's documents in the caller's transaction."""
    trigger = facts.trigger
    new: list[Event] = []
    ids: list[str] = []
    invoice_id = None
    if plan.invoice is not None:
        invoice_id = derived_id("invoice", plan.invoice.basis.trigger_event_id)
    if plan.credit is not None:
        new.append(
            build_credit_note(
                plan.credit,
                number=await queries.next_number(conn, CREDIT_NOTE_SERIES),
                issued_at=trigger.at,
                reason=_credit_reason(trigger, priced),
                replaced_by_invoice_id=invoice_id,
            )
        )
        ids.append(derived_id(trigger.event_id, "CreditNoteIssued"))
    if plan.invoice is not None:
        new.append(
            build_invoice(
                plan.invoice,
                Party.of(facts),
                number=await queries.next_number(conn, INVOICE_SERIES),
                issued_at=trigger.at,
                replaces_invoice_id=plan.credit.invoice_id if plan.credit else None,
            )
        )
        ids.append(derived_id(trigger.event_id, "InvoiceIssued"))
    recorded = await store.append(
        conn,
        stream_id(facts.work_order_id),
        version,
        new,
        correlation_id=correlation_id,
        causation_id=trigger.event_id,
        event_ids=ids,
        occurred_at=trigger.at,
    )
    for event, event_id in zip(new, ids, strict=True):
        await apply_document(conn, event, event_id)
        DOCUMENTS.labels(kind=event.event_type).inc()
    return recorded


async def _documents(conn: AsyncConnection, work_order_id: str) -> Folded[BillingState]:
    """The work order's billing documents folded: their snapshot plus the later events."""
    return await DOCUMENT_SNAPSHOTS.load(
        conn,
        store,
        stream_id(work_order_id),
        initial=BillingState(),
        evolve=lambda state, recorded: evolve(state, recorded.data),
    )


async def _keep(
    conn: AsyncConnection, folded: Folded[BillingState], recorded: list[RecordedEvent]
) -> None:
    """Keep the state the appended ``recorded`` leave, in their transaction."""
    if not recorded:
        return
    state = folded.state
    for event in recorded:
        state = evolve(state, event.data)
    await DOCUMENT_SNAPSHOTS.save(
        conn, recorded[-1], state, snapshot_version=folded.snapshot_version
    )


async def is_active(conn: AsyncConnection, generation: int) -> bool:
    """Whether ``generation`` decides (only the active generation issues documents)."""
    state = await conn.scalar(
        select(generations.c.state).where(generations.c.generation == generation)
    )
    return state == "active"


async def _to_answer(conn: AsyncConnection, job: Mapping[str, Any], generation: int) -> bool:
    """Whether the job has a trigger not yet answered, and ``generation`` decides."""
    trigger_id = job["trigger_event_id"]
    if trigger_id is None or job["trigger_event_type"] == "JobReopened":
        return False
    if job["evaluated_trigger_id"] == trigger_id:
        return False
    # A building generation does not: the activation sweep answers whatever the log has not.
    return await is_active(conn, generation)


async def _priced(
    conn: AsyncConnection, work_order_id: str, job: Mapping[str, Any], generation: int
) -> tuple[JobFacts, PricedJob | NotChargeable] | None:
    """The job priced at its trigger; None once the job records why it is not.

    Not priced: it waits for inputs, its configuration blocks it, or nothing is charged.
    """
    try:
        loaded = await load_pricing(conn, work_order_id, job["trigger_seq"], generation)
        if isinstance(loaded, Waiting):
            await queries.update_job(
                conn,
                work_order_id,
                status="awaiting_inputs",
                waiting_for=list(loaded.keys),
                blocked_reason=None,
            )
            return None
        if loaded is None or isinstance(loaded, NotChargeable):
            await queries.update_job(
                conn, work_order_id, evaluated_trigger_id=job["trigger_event_id"]
            )
            return None
        facts, config = loaded
        return facts, price_job(facts, config)
    except PricingBlockedError as exc:
        BLOCKED.labels(reason=str(exc).split(" ")[0]).inc()
        log.warning("pricing_blocked", work_order_id=work_order_id, reason=str(exc))
        await queries.update_job(
            conn, work_order_id, status="blocked", blocked_reason=str(exc), waiting_for=None
        )
        return None


async def evaluate(
    conn: AsyncConnection, work_order_id: str, generation: int, correlation_id: str | None = None
) -> list[Event]:
    """Answer the job's latest trigger if this generation decides; returns what was issued."""
    job = await queries.lock_job(conn, work_order_id)
    if not await _to_answer(conn, job, generation):
        return []
    found = await _priced(conn, work_order_id, job, generation)
    if found is None:
        return []
    facts, priced = found
    trigger_id = job["trigger_event_id"]
    documents = await _documents(conn, work_order_id)
    plan = decide_documents(documents.state, trigger_id, priced)
    issued = await _issue(conn, facts, priced, documents.version, plan, correlation_id)
    await _keep(conn, documents, issued)
    await queries.update_job(
        conn,
        work_order_id,
        status="not_charged" if isinstance(priced, NotChargeable) else "invoiced",
        evaluated_trigger_id=trigger_id,
        blocked_reason=None,
        waiting_for=None,
    )
    return [recorded.data for recorded in issued]


# --------------------------------------------------------------------------------------
# HTTP commands


@dataclass(frozen=True)
class Context:
    """What a command runs in: its transaction, and the time it arrived.

    A payment's transaction is on the active generation's tables (its invoice is read from
    the projection); a pricing command's is on the configuration tables.
    """

    conn: AsyncConnection
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


async def record_payment(cmd: RecordPayment, ctx: Context) -> str:
    """Record a payment against an invoice (``InvoicePaid``); the id of the invoice paid.

    Raises:
        NotFoundError: no invoice has that id or number.
        ConflictError: the invoice was credited or is paid (``decide_payment``).
        InvalidInputError: the amount or the date does not fit the invoice.
    """
    found = await queries.get_invoice(ctx.conn, cmd.invoice)
    if found is None:
        raise NotFoundError("no such invoice")
    documents = await _documents(ctx.conn, found["work_order_id"])
    paid = decide_payment(documents.state, found["invoice_id"], cmd)
    stream = stream_id(found["work_order_id"])
    recorded = await store.append(
        ctx.conn, stream, documents.version, [paid], occurred_at=paid.paid_at
    )
    await _keep(ctx.conn, documents, recorded)
    await apply_document(ctx.conn, paid, recorded[0].event_id)
    return paid.invoice_id


async def add_rate_card(cmd: AddRateCard, ctx: Context) -> int:
    """Store a rate card version; the version number it got.

    Raises:
        InvalidInputError: it would take effect in the past.
    """
    require_not_retroactive(cmd.effective_from, ctx.now)
    return await queries.add_rate_card(ctx.conn, cmd.rate_card, cmd.effective_from, cmd.note)


async def add_price_book_entry(cmd: AddPriceBookEntry, ctx: Context) -> int:
    """Store a version of a part's price; the version number it got.

    A part never priced before may take effect in the past (jobs blocked on it are then
    priced); a change of price may not.

    Raises:
        InvalidInputError: a change of price would take effect in the past.
    """
    if await queries.has_price_book_entry(ctx.conn, cmd.sku):
        require_not_retroactive(cmd.effective_from, ctx.now)
    return await queries.add_price_book_entry(ctx.conn, cmd.sku, cmd.entry, cmd.effective_from)


async def add_contract_version(cmd: AddContractVersion, ctx: Context) -> int:
    """Store a version of a contract's terms; the version number it got.

    A contract on file for the first time may take effect in the past (jobs blocked on it
    are then priced); a change of terms may not.

    Raises:
        InvalidInputError: a change of terms would take effect in the past.
    """
    if await queries.has_contract(ctx.conn, cmd.contract_id):
        require_not_retroactive(cmd.effective_from, ctx.now)
    return await queries.add_contract_version(
        ctx.conn, cmd.contract_id, cmd.terms, cmd.effective_from
    )


# Each command type's handler; ``HANDLERS.handle(cmd, ctx)`` runs the one for ``type(cmd)``.
HANDLERS = CommandHandlers(
    record_payment,
    add_rate_card,
    add_price_book_entry,
    add_contract_version,
)
