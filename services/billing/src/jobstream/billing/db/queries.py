"""Billing's queries: pricing versions, numbering, facts, jobs and documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db.tables import (
    contracts,
    credit_notes,
    document_series,
    field_facts,
    invoices,
    jobs,
    payments,
    price_book,
    rate_cards,
    technician_profiles,
    work_order_details,
)
from jobstream.billing.domain.config import ContractTerms, PriceBookEntry, RateCard
from jobstream.billing.domain.pricing import Versioned
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, InvoicePaid

# --------------------------------------------------------------------------------------
# pricing configuration: immutable versions, chosen by effective time


async def rate_card_in_force(conn: AsyncConnection, at: datetime) -> Versioned[RateCard] | None:
    """The rate card version in force at ``at``."""
    row = (
        await conn.execute(
            select(rate_cards.c.version, rate_cards.c.document)
            .where(rate_cards.c.effective_from <= at)
            .order_by(rate_cards.c.effective_from.desc())
            .limit(1)
        )
    ).first()
    return Versioned(row.version, RateCard.model_validate(row.document)) if row else None


async def rate_card_version(conn: AsyncConnection, version: int) -> Versioned[RateCard] | None:
    """One rate card version."""
    document = await conn.scalar(
        select(rate_cards.c.document).where(rate_cards.c.version == version)
    )
    return Versioned(version, RateCard.model_validate(document)) if document else None


async def contract_in_force(
    conn: AsyncConnection, contract_id: str, at: datetime
) -> Versioned[ContractTerms] | None:
    """The version of a contract in force at ``at``."""
    row = (
        await conn.execute(
            select(contracts.c.version, contracts.c.document)
            .where(contracts.c.contract_id == contract_id, contracts.c.effective_from <= at)
            .order_by(contracts.c.effective_from.desc())
            .limit(1)
        )
    ).first()
    return Versioned(row.version, ContractTerms.model_validate(row.document)) if row else None


async def contract_version(
    conn: AsyncConnection, contract_id: str, version: int
) -> Versioned[ContractTerms] | None:
    """One contract version."""
    document = await conn.scalar(
        select(contracts.c.document).where(
            contracts.c.contract_id == contract_id, contracts.c.version == version
        )
    )
    return Versioned(version, ContractTerms.model_validate(document)) if document else None


async def price_book_in_force(
    conn: AsyncConnection, skus: Iterable[str], at: datetime
) -> dict[str, Versioned[PriceBookEntry]]:
    """For each listed SKU, its entry in force at ``at``."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(price_book.c.sku, price_book.c.version, price_book.c.document)
        .where(price_book.c.sku.in_(wanted), price_book.c.effective_from <= at)
        .order_by(price_book.c.sku, price_book.c.effective_from.desc())
    )
    found: dict[str, Versioned[PriceBookEntry]] = {}
    for r in rows:
        if r.sku not in found:  # the latest version not after ``at``
            found[r.sku] = Versioned(r.version, PriceBookEntry.model_validate(r.document))
    return found


async def price_book_versions(
    conn: AsyncConnection, pairs: Iterable[tuple[str, int]]
) -> dict[str, Versioned[PriceBookEntry]]:
    """Named entries (``sku``, ``version``)."""
    wanted = list(pairs)
    if not wanted:
        return {}
    rows = await conn.execute(
        select(price_book.c.sku, price_book.c.version, price_book.c.document).where(
            or_(*(and_(price_book.c.sku == s, price_book.c.version == v) for s, v in wanted))
        )
    )
    return {r.sku: Versioned(r.version, PriceBookEntry.model_validate(r.document)) for r in rows}


async def add_rate_card(
    conn: AsyncConnection, card: RateCard, effective_from: datetime, note: str
) -> int:
    """Append a rate card version; returns its number."""
    version = int(await conn.scalar(select(func.coalesce(func.max(rate_cards.c.version), 0))) or 0)
    await conn.execute(
        rate_cards.insert().values(
            version=version + 1,
            effective_from=effective_from,
            document=card.model_dump(mode="json"),
            note=note,
        )
    )
    return version + 1


async def add_price_book_entry(
    conn: AsyncConnection, sku: str, entry: PriceBookEntry, effective_from: datetime
) -> int:
    """Append a version of one SKU's price; returns its number."""
    version = await conn.scalar(
        select(func.coalesce(func.max(price_book.c.version), 0)).where(price_book.c.sku == sku)
    )
    number = int(version or 0) + 1
    await conn.execute(
        price_book.insert().values(
            sku=sku,
            version=number,
            effective_from=effective_from,
            document=entry.model_dump(mode="json"),
        )
    )
    return number


async def add_contract_version(
    conn: AsyncConnection, contract_id: str, terms: ContractTerms, effective_from: datetime
) -> int:
    """Append a version of a contract; returns its number."""
    version = await conn.scalar(
        select(func.coalesce(func.max(contracts.c.version), 0)).where(
            contracts.c.contract_id == contract_id
        )
    )
    number = int(version or 0) + 1
    await conn.execute(
        contracts.insert().values(
            contract_id=contract_id,
            version=number,
            effective_from=effective_from,
            document=terms.model_dump(mode="json"),
        )
    )
    return number


async def has_price_book_entry(conn: AsyncConnection, sku: str) -> bool:
    """Whether the part has been priced before (in any version)."""
    found = await conn.scalar(select(price_book.c.sku).where(price_book.c.sku == sku).limit(1))
    return found is not None


async def has_contract(conn: AsyncConnection, contract_id: str) -> bool:
    """Whether the contract is on file (in any version)."""
    found = await conn.scalar(
        select(contracts.c.contract_id).where(contracts.c.contract_id == contract_id).limit(1)
    )
    return found is not None


async def pricing_overview(conn: AsyncConnection) -> dict[str, Any]:
    """Every configuration version, for the admin API."""

    def rows(result: Any) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in result]

    return {
        "rate_cards": rows(
            await conn.execute(
                select(
                    rate_cards.c.version,
                    rate_cards.c.effective_from,
                    rate_cards.c.note,
                    rate_cards.c.document,
                ).order_by(rate_cards.c.version)
            )
        ),
        "price_book": rows(
            await conn.execute(
                select(
                    price_book.c.sku,
                    price_book.c.version,
                    price_book.c.effective_from,
                    price_book.c.document,
                ).order_by(price_book.c.sku, price_book.c.version)
            )
        ),
        "contracts": rows(
            await conn.execute(
                select(
                    contracts.c.contract_id,
                    contracts.c.version,
                    contracts.c.effective_from,
                    contracts.c.document,
                ).order_by(contracts.c.contract_id, contracts.c.version)
            )
        ),
    }


# --------------------------------------------------------------------------------------
# numbering


async def next_number(conn: AsyncConnection, series: str) -> int:
    """The next number of ``series``.

    Gapless: it commits or rolls back with the document's event, and the row lock
    serialises concurrent issuers (docs/adr/0042).
    """
    result = await conn.execute(
        pg_insert(document_series)
        .values(series=series, last_number=1)
        .on_conflict_do_update(
            index_elements=["series"], set_={"last_number": document_series.c.last_number + 1}
        )
        .returning(document_series.c.last_number)
    )
    return int(result.scalar_one())


# --------------------------------------------------------------------------------------
# facts (projection generation)


async def insert_details(
    conn: AsyncConnection,
    *,
    event_id: str,
    work_order_id: str,
    event_type: str,
    effective_at: datetime,
    details: dict[str, Any],
) -> None:
    """Keep one version of a work order's details."""
    await conn.execute(
        pg_insert(work_order_details)
        .values(
            event_id=event_id,
            work_order_id=work_order_id,
            event_type=event_type,
            effective_at=effective_at,
            details=details,
        )
        .on_conflict_do_nothing()
    )


async def details_in_force(
    conn: AsyncConnection, work_order_id: str, at: datetime
) -> tuple[str, dict[str, Any]] | None:
    """The details version in force at ``at``.

    The latest not after it, else the earliest (a release stamped a moment after the
    completion by another service's clock).
    """
    t = work_order_details
    return await _version_in_force(conn, t, "details", t.c.work_order_id == work_order_id, at)


async def _version_in_force(
    conn: AsyncConnection, table: Table, document: str, key: ColumnElement[bool], at: datetime
) -> tuple[str, dict[str, Any]] | None:
    """(event id, document) of the version in force at ``at``, among the rows ``key`` picks.

    The latest not after it, else the earliest.
    """
    base = select(table.c.event_id, table.c[document]).where(key)
    row = (
        await conn.execute(
            base.where(table.c.effective_at <= at)
            .order_by(table.c.effective_at.desc(), table.c.event_id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        row = (
            await conn.execute(base.order_by(table.c.effective_at, table.c.event_id).limit(1))
        ).first()
    return (row.event_id, row[1]) if row else None


async def details_by_event(conn: AsyncConnection, event_id: str) -> dict[str, Any] | None:
    """One details version by the event that carried it."""
    value = await conn.scalar(
        select(work_order_details.c.details).where(work_order_details.c.event_id == event_id)
    )
    return dict(value) if value is not None else None


async def insert_profile(
    conn: AsyncConnection,
    *,
    event_id: str,
    technician_id: str,
    effective_at: datetime,
    profile: dict[str, Any],
) -> None:
    """Keep one version of a technician's profile."""
    await conn.execute(
        pg_insert(technician_profiles)
        .values(
            event_id=event_id,
            technician_id=technician_id,
            effective_at=effective_at,
            profile=profile,
        )
        .on_conflict_do_nothing()
    )


async def profile_in_force(
    conn: AsyncConnection, technician_id: str, at: datetime
) -> tuple[str, dict[str, Any]] | None:
    """The profile version in force at ``at`` (latest not after it, else the earliest)."""
    t = technician_profiles
    return await _version_in_force(conn, t, "profile", t.c.technician_id == technician_id, at)


async def profiles_by_event(
    conn: AsyncConnection, event_ids: Sequence[str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Profile versions by event id: technician id → (event id, profile)."""
    if not event_ids:
        return {}
    t = technician_profiles
    rows = await conn.execute(
        select(t.c.event_id, t.c.technician_id, t.c.profile).where(t.c.event_id.in_(event_ids))
    )
    return {r.technician_id: (r.event_id, r.profile) for r in rows}


async def append_field_fact(
    conn: AsyncConnection, work_order_id: str, event_id: str, event_type: str, data: dict[str, Any]
) -> int:
    """Keep a field event in the job's log order; returns its sequence number."""
    following = (
        select(func.coalesce(func.max(field_facts.c.seq), 0) + 1)
        .where(field_facts.c.work_order_id == work_order_id)
        .scalar_subquery()
    )
    result = await conn.execute(
        field_facts.insert()
        .values(
            work_order_id=work_order_id,
            seq=following,
            event_id=event_id,
            event_type=event_type,
            data=data,
        )
        .returning(field_facts.c.seq)
    )
    return int(result.scalar_one())


async def field_facts_until(
    conn: AsyncConnection, work_order_id: str, seq: int
) -> list[tuple[str, str, dict[str, Any]]]:
    """(event id, type, data) of a job's field events up to ``seq``, in log order."""
    t = field_facts
    rows = await conn.execute(
        select(t.c.event_id, t.c.event_type, t.c.data)
        .where(t.c.work_order_id == work_order_id, t.c.seq <= seq)
        .order_by(t.c.seq)
    )
    return [(r.event_id, r.event_type, r.data) for r in rows]


async def field_facts_after(
    conn: AsyncConnection, work_order_id: str, after: int
) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(seq, event id, type, data) of a job's field events after ``seq``, in log order."""
    t = field_facts
    rows = await conn.execute(
        select(t.c.seq, t.c.event_id, t.c.event_type, t.c.data)
        .where(t.c.work_order_id == work_order_id, t.c.seq > after)
        .order_by(t.c.seq)
    )
    return [(r.seq, r.event_id, r.event_type, r.data) for r in rows]


async def field_fact_seq(conn: AsyncConnection, event_id: str) -> int | None:
    """Where an event stands in its job's log."""
    value = await conn.scalar(select(field_facts.c.seq).where(field_facts.c.event_id == event_id))
    return int(value) if value is not None else None


async def outcome_until(
    conn: AsyncConnection, work_order_id: str, event_id: str
) -> tuple[str, dict[str, Any]] | None:
    """(type, data) of the job's last completion or incomplete visit up to ``event_id``.

    The last at or before the event ``event_id`` in its log: when the work a document
    charges for ended.
    """
    t = field_facts
    until = select(t.c.seq).where(t.c.event_id == event_id).scalar_subquery()
    row = (
        await conn.execute(
            select(t.c.event_type, t.c.data)
            .where(
                t.c.work_order_id == work_order_id,
                t.c.event_type.in_(("JobCompleted", "JobIncomplete")),
                t.c.seq <= until,
            )
            .order_by(t.c.seq.desc())
            .limit(1)
        )
    ).first()
    return (row.event_type, dict(row.data)) if row else None


# --------------------------------------------------------------------------------------
# jobs (projection generation)


async def lock_job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any]:
    """The job's row, created if new, locked until the transaction ends.

    The runner and the sweep may evaluate the same job. One statement: the no-op update
    takes the lock.
    """
    statement = pg_insert(jobs).values(work_order_id=work_order_id, status="open")
    row = (
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["work_order_id"],
                set_={"work_order_id": statement.excluded.work_order_id},
            ).returning(*jobs.c)
        )
    ).one()
    return dict(row._mapping)


async def record_answered(conn: AsyncConnection, work_order_id: str, trigger_id: str) -> None:
    """A document answered ``trigger_id`` (seen on billing's topic or issued here)."""
    statement = pg_insert(jobs).values(
        work_order_id=work_order_id, status="invoiced", evaluated_trigger_id=trigger_id
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["work_order_id"],
            set_={
                "evaluated_trigger_id": trigger_id,
                "status": "invoiced",
                "blocked_reason": None,
                "waiting_for": None,
            },
            where=jobs.c.evaluated_trigger_id.is_distinct_from(trigger_id),
        )
    )


async def update_job(conn: AsyncConnection, work_order_id: str, **values: Any) -> None:
    """Change a job's row."""
    await conn.execute(update(jobs).where(jobs.c.work_order_id == work_order_id).values(**values))


async def get_job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """A job's billing state."""
    row = (await conn.execute(select(jobs).where(jobs.c.work_order_id == work_order_id))).first()
    return dict(row._mapping) if row else None


async def jobs_needing_evaluation(conn: AsyncConnection, limit: int = 1000) -> list[str]:
    """Jobs whose latest trigger has not been answered.

    Waiting, blocked, or decided while this generation was building.
    """
    rows = await conn.execute(
        select(jobs.c.work_order_id)
        .where(
            jobs.c.trigger_event_id.is_not(None),
            jobs.c.trigger_event_type != "JobReopened",
            or_(
                jobs.c.evaluated_trigger_id.is_(None),
                jobs.c.evaluated_trigger_id != jobs.c.trigger_event_id,
            ),
        )
        .order_by(jobs.c.work_order_id)
        .limit(limit)
    )
    return [r.work_order_id for r in rows]


async def jobs_waiting_for(conn: AsyncConnection, key: str) -> list[str]:
    """Jobs waiting for an input (``details`` or a technician id)."""
    rows = await conn.execute(
        select(jobs.c.work_order_id).where(
            jobs.c.status == "awaiting_inputs", jobs.c.waiting_for.contains([key])
        )
    )
    return [r.work_order_id for r in rows]


async def list_jobs(conn: AsyncConnection, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Jobs by billing status."""
    query = select(jobs).order_by(jobs.c.work_order_id).limit(limit)
    if status is not None:
        query = query.where(jobs.c.status == status)
    return [dict(r._mapping) for r in await conn.execute(query)]


# --------------------------------------------------------------------------------------
# documents (projection generation): written by the decision and by billing's own topic


async def apply_invoice(conn: AsyncConnection, issued: InvoiceIssued) -> None:
    """Store an issued invoice (once)."""
    await conn.execute(
        pg_insert(invoices)
        .values(
            invoice_id=issued.invoice_id,
            invoice_number=issued.invoice_number,
            work_order_id=issued.work_order_id,
            customer_id=issued.customer_id,
            currency=issued.currency,
            net_total_minor=issued.net_total_minor,
            tax_total_minor=issued.tax_total_minor,
            gross_total_minor=issued.gross_total_minor,
            issued_at=issued.issued_at,
            due_on=issued.due_on,
            status="issued",
            paid_minor=0,
            replaces_invoice_id=issued.replaces_invoice_id,
            document=issued.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )
    # No refresh: an invoice's payments and credit note follow it in its work order's
    # stream, so they are never seen before it.


async def apply_credit_note(conn: AsyncConnection, credit: CreditNoteIssued) -> None:
    """Store a credit note (once) and mark the invoice it credits."""
    await conn.execute(
        pg_insert(credit_notes)
        .values(
            credit_note_id=credit.credit_note_id,
            credit_note_number=credit.credit_note_number,
            invoice_id=credit.invoice_id,
            work_order_id=credit.work_order_id,
            customer_id=credit.customer_id,
            currency=credit.currency,
            gross_total_minor=credit.gross_total_minor,
            issued_at=credit.issued_at,
            document=credit.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )
    await _refresh_invoice_status(conn, credit.invoice_id)


async def apply_payment(conn: AsyncConnection, event_id: str, paid: InvoicePaid) -> None:
    """Store a payment (once) and update the invoice's paid amount and status."""
    await conn.execute(
        pg_insert(payments)
        .values(
            event_id=event_id,
            invoice_id=paid.invoice_id,
            work_order_id=paid.work_order_id,
            amount_minor=paid.amount_minor,
            currency=paid.currency,
            paid_at=paid.paid_at,
            document=paid.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )
    await _refresh_invoice_status(conn, paid.invoice_id)


async def _refresh_invoice_status(conn: AsyncConnection, invoice_id: str) -> None:
    """Status, paid amount and credit note from the stored documents (order-free)."""
    paid = (
        select(
            func.coalesce(func.sum(payments.c.amount_minor), 0).label("amount"),
            func.max(payments.c.paid_at).label("last"),
        )
        .where(payments.c.invoice_id == invoice_id)
        .subquery()
    )
    row = (await conn.execute(select(paid.c.amount, paid.c.last))).one()
    credit = await conn.scalar(
        select(credit_notes.c.credit_note_id).where(credit_notes.c.invoice_id == invoice_id)
    )
    gross = await conn.scalar(
        select(invoices.c.gross_total_minor).where(invoices.c.invoice_id == invoice_id)
    )
    if gross is None:
        return  # a payment or credit seen before its invoice: the invoice's insert refreshes
    amount = int(row.amount)
    if credit is not None:
        status = "credited"
    elif amount >= gross:
        status = "paid"
    elif amount > 0:
        status = "part_paid"
    else:
        status = "issued"
    await conn.execute(
        update(invoices)
        .where(invoices.c.invoice_id == invoice_id)
        .values(
            status=status,
            paid_minor=amount,
            paid_at=row.last if status == "paid" else None,
            credit_note_id=credit,
        )
    )


def _invoice_view(row: Any) -> dict[str, Any]:
    document = dict(row.document)
    document["status"] = row.status
    document["paid_minor"] = row.paid_minor
    document["outstanding_minor"] = (
        0 if row.status == "credited" else max(row.gross_total_minor - row.paid_minor, 0)
    )
    document["paid_at"] = row.paid_at.isoformat() if row.paid_at else None
    document["credit_note_id"] = row.credit_note_id
    return document


async def list_invoices(
    conn: AsyncConnection,
    *,
    customer_id: str | None = None,
    work_order_id: str | None = None,
    status: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Invoices, newest first, filtered, with their status."""
    query = (
        select(invoices)
        .order_by(invoices.c.issued_at.desc(), invoices.c.invoice_number.desc())
        .limit(limit)
        .offset(offset)
    )
    if customer_id is not None:
        query = query.where(invoices.c.customer_id == customer_id)
    if work_order_id is not None:
        query = query.where(invoices.c.work_order_id == work_order_id)
    if status is not None:
        query = query.where(invoices.c.status == status)
    if issued_from is not None:
        query = query.where(func.date(invoices.c.issued_at) >= issued_from)
    if issued_to is not None:
        query = query.where(func.date(invoices.c.issued_at) <= issued_to)
    return [_invoice_view(r) for r in await conn.execute(query)]


async def get_invoice(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    """One invoice by id or number, with its status."""
    row = (
        await conn.execute(
            select(invoices).where(
                or_(invoices.c.invoice_id == key, invoices.c.invoice_number == key)
            )
        )
    ).first()
    return _invoice_view(row) if row else None


async def payments_of(conn: AsyncConnection, invoice_id: str) -> list[dict[str, Any]]:
    """Payments recorded against an invoice."""
    rows = await conn.execute(
        select(payments.c.event_id, payments.c.document)
        .where(payments.c.invoice_id == invoice_id)
        .order_by(payments.c.paid_at, payments.c.event_id)
    )
    return [{"payment_id": r.event_id, **r.document} for r in rows]


async def list_credit_notes(
    conn: AsyncConnection,
    *,
    customer_id: str | None = None,
    work_order_id: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Credit notes, newest first."""
    query = (
        select(credit_notes.c.document)
        .order_by(credit_notes.c.issued_at.desc(), credit_notes.c.credit_note_number.desc())
        .limit(limit)
    )
    if customer_id is not None:
        query = query.where(credit_notes.c.customer_id == customer_id)
    if work_order_id is not None:
        query = query.where(credit_notes.c.work_order_id == work_order_id)
    if issued_from is not None:
        query = query.where(func.date(credit_notes.c.issued_at) >= issued_from)
    if issued_to is not None:
        query = query.where(func.date(credit_notes.c.issued_at) <= issued_to)
    return [dict(r.document) for r in await conn.execute(query)]


async def get_credit_note(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    """One credit note document by id or number."""
    document = await conn.scalar(
        select(credit_notes.c.document).where(
            or_(credit_notes.c.credit_note_id == key, credit_notes.c.credit_note_number == key)
        )
    )
    return dict(document) if document is not None else None


async def invoice_document(conn: AsyncConnection, invoice_id: str) -> dict[str, Any] | None:
    """One invoice's document as issued, by id (what a credit note or a successor names)."""
    document = await conn.scalar(
        select(invoices.c.document).where(invoices.c.invoice_id == invoice_id)
    )
    return dict(document) if document is not None else None


async def credit_note_number(conn: AsyncConnection, credit_note_id: str) -> str | None:
    """A credit note's number, by id."""
    value = await conn.scalar(
        select(credit_notes.c.credit_note_number).where(
            credit_notes.c.credit_note_id == credit_note_id
        )
    )
    return str(value) if value is not None else None


async def all_documents(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    """Every stored document and its row, in a stable order (rebuild equality)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table, key in (
        ("invoices", invoices, invoices.c.invoice_id),
        ("credit_notes", credit_notes, credit_notes.c.credit_note_id),
        ("payments", payments, payments.c.event_id),
    ):
        out[name] = [dict(r._mapping) for r in await conn.execute(select(table).order_by(key))]
    return out


async def invoice_documents(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every invoice document, by number (rebuild verification)."""
    rows = await conn.execute(select(invoices.c.document).order_by(invoices.c.invoice_number))
    return [dict(r.document) for r in rows]
