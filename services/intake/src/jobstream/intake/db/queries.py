"""Intake's reads and writes on its plain tables (records, read models, plans, emails)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.intake.db.tables import (
    contacts,
    customers,
    inbound_emails,
    maintenance_plans,
    service_contracts,
    sites,
    work_orders,
)

Row = dict[str, Any]

# Statuses in which a request still needs work (duplicates are looked for among these).
OPEN_STATUSES = ("logged", "awaiting_approval", "approved", "released")


def _one(row: Any) -> Row | None:
    return dict(row._mapping) if row is not None else None


def _where_equal(query: Select[Any], table: Table, equals: dict[str, Any]) -> Select[Any]:
    """``query`` narrowed to rows whose columns equal the values given (None: any value)."""
    for column, value in equals.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return query


# -- records ----------------------------------------------------------------------------


async def insert_record(conn: AsyncConnection, table: Table, values: Row) -> bool:
    """Insert a record; False when its id is taken (nothing written)."""
    key = next(iter(table.primary_key.columns))
    stmt = pg_insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return (await conn.execute(stmt)).first() is not None


async def get_record(conn: AsyncConnection, table: Table, record_id: str) -> Row | None:
    """One record by its primary key."""
    key = next(iter(table.primary_key.columns))
    return _one((await conn.execute(select(table).where(key == record_id))).first())


async def list_records(
    conn: AsyncConnection,
    table: Table,
    *,
    limit: int,
    offset: int = 0,
    search: tuple[str | None, tuple[str, ...]] = (None, ()),
    **equals: str | None,
) -> list[Row]:
    """Records filtered by equality on the given columns (None means no filter), and by search.

    ``search`` is (text, columns): the text found, ignoring case, in any of the columns.
    """
    key = next(iter(table.primary_key.columns))
    query = _where_equal(select(table).order_by(key).limit(limit).offset(offset), table, equals)
    text, columns = search
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(table.c[c].ilike(pattern, escape="\\") for c in columns)))
    return [dict(r._mapping) for r in await conn.execute(query)]


async def customers_by_email(conn: AsyncConnection, address: str) -> list[Row]:
    """Who ``address`` belongs to: its contacts, and the customers billed at it.

    A contact comes with their site, if tied to one. Each row has customer_id, site_id and
    contact_id (either may be None).
    """
    address = address.lower()
    found = [
        dict(r._mapping)
        for r in await conn.execute(
            select(contacts.c.customer_id, contacts.c.site_id, contacts.c.contact_id)
            .where(contacts.c.email == address)
            .order_by(contacts.c.contact_id)
        )
    ]
    billed = await conn.execute(
        select(customers.c.customer_id)
        .where(customers.c.billing_email == address)
        .order_by(customers.c.customer_id)
    )
    found += [{"customer_id": r.customer_id, "site_id": None, "contact_id": None} for r in billed]
    return found


async def sites_of(conn: AsyncConnection, customer_id: str) -> list[Row]:
    """Every site of a customer."""
    rows = await conn.execute(
        select(sites).where(sites.c.customer_id == customer_id).order_by(sites.c.site_id)
    )
    return [dict(r._mapping) for r in rows]


async def contracts_for(conn: AsyncConnection, customer_id: str, on: date) -> list[Row]:
    """The customer's contracts valid on ``on``, newest first."""
    c = service_contracts
    rows = await conn.execute(
        select(c)
        .where(
            c.c.customer_id == customer_id,
            c.c.valid_from <= on,
            or_(c.c.valid_to.is_(None), c.c.valid_to >= on),
        )
        .order_by(c.c.valid_from.desc(), c.c.contract_id)
    )
    return [dict(r._mapping) for r in rows]


# -- work orders (read model) -----------------------------------------------------------


async def insert_work_order(conn: AsyncConnection, values: Row) -> None:
    """Add a freshly logged work order to the list."""
    await conn.execute(work_orders.insert().values(**values))


async def update_work_order(conn: AsyncConnection, work_order_id: str, values: Row) -> None:
    """Change some columns of one work order."""
    await conn.execute(
        update(work_orders).where(work_orders.c.work_order_id == work_order_id).values(**values)
    )


async def get_work_order(conn: AsyncConnection, work_order_id: str) -> Row | None:
    """One work order row, or None."""
    return _one(
        (
            await conn.execute(
                select(work_orders).where(work_orders.c.work_order_id == work_order_id)
            )
        ).first()
    )


async def open_requests_at(conn: AsyncConnection, site_id: str) -> list[Row]:
    """Open work orders of a site, oldest first (the duplicate check's candidates)."""
    w = work_orders
    rows = await conn.execute(
        select(w.c.work_order_id, w.c.site_id, w.c.asset_id, w.c.description)
        .where(w.c.site_id == site_id, w.c.status.in_(OPEN_STATUSES), w.c.completed_at.is_(None))
        .order_by(w.c.logged_at, w.c.work_order_id)
        .limit(200)
    )
    return [dict(r._mapping) for r in rows]


async def list_work_orders(
    conn: AsyncConnection,
    *,
    statuses: Sequence[str] = (),
    priorities: Sequence[str] = (),
    at_risk_by: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    **equals: str | None,
) -> list[Row]:
    """The newest work orders matching every filter given.

    ``equals``: columns and the value each must have (None: any), such as ``customer_id``,
    ``site_id``, ``asset_id`` or ``channel``. ``at_risk_by``: only open jobs with a deadline
    not yet met that falls before it (respond-by until someone arrived, resolve-by until
    completion).
    """
    w = work_orders
    query = select(w).order_by(w.c.logged_at.desc(), w.c.work_order_id).limit(limit)
    query = _where_equal(query.offset(offset), w, equals)
    if statuses:
        query = query.where(w.c.status.in_(statuses))
    if priorities:
        query = query.where(w.c.priority.in_(priorities))
    if at_risk_by is not None:
        query = query.where(
            w.c.status.in_(OPEN_STATUSES),
            w.c.completed_at.is_(None),
            or_(
                and_(w.c.responded_at.is_(None), w.c.respond_by <= at_risk_by),
                w.c.resolve_by <= at_risk_by,
            ),
        )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def previous_jobs(
    conn: AsyncConnection,
    *,
    work_order_id: str,
    site_id: str | None = None,
    asset_id: str | None = None,
    limit: int = 20,
) -> list[Row]:
    """Earlier jobs the field finished at a site or on an asset, newest first."""
    w = work_orders
    query = (
        select(
            w.c.work_order_id,
            w.c.job_type,
            w.c.description,
            w.c.asset_id,
            w.c.status,
            w.c.outcome,
            w.c.completed_at,
            w.c.technician_id,
            w.c.first_time_fix,
            w.c.follow_up_needed,
        )
        .where(w.c.work_order_id != work_order_id, w.c.completed_at.is_not(None))
        .order_by(w.c.completed_at.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(w.c.site_id == site_id)
    if asset_id is not None:
        query = query.where(w.c.asset_id == asset_id)
    return [dict(r._mapping) for r in await conn.execute(query)]


# -- maintenance plans ------------------------------------------------------------------


async def due_plan_ids(conn: AsyncConnection, today: date) -> list[str]:
    """Active plans whose next occurrence is within its lead time of ``today`` (or past)."""
    p = maintenance_plans
    rows = await conn.execute(
        select(p.c.plan_id)
        .where(
            p.c.active.is_(True),
            p.c.next_due_on.is_not(None),
            # date - integer is a date in PostgreSQL
            p.c.next_due_on - p.c.lead_days <= today,
        )
        .order_by(p.c.next_due_on, p.c.plan_id)
    )
    return [r.plan_id for r in rows]


async def lock_plan(conn: AsyncConnection, plan_id: str) -> Row | None:
    """One plan, locked until the transaction ends (two schedulers take turns per plan)."""
    p = maintenance_plans
    return _one(
        (await conn.execute(select(p).where(p.c.plan_id == plan_id).with_for_update())).first()
    )


async def advance_plan(
    conn: AsyncConnection,
    plan_id: str,
    *,
    raised_due_on: date,
    work_order_id: str,
    next_due_on: date | None,
    now: datetime,
) -> None:
    """Record a raised occurrence and move the plan to its next one."""
    await conn.execute(
        update(maintenance_plans)
        .where(maintenance_plans.c.plan_id == plan_id)
        .values(
            last_raised_due_on=raised_due_on,
            last_work_order_id=work_order_id,
            next_due_on=next_due_on,
            next_due_source="recurrence",
            updated_at=now,
        )
    )


async def set_next_service(
    conn: AsyncConnection, plan_id: str, next_due_on: date, source: str, now: datetime
) -> None:
    """A completed job set the next service date (unless that occurrence was raised)."""
    p = maintenance_plans
    await conn.execute(
        update(p)
        .where(
            p.c.plan_id == plan_id,
            or_(p.c.last_raised_due_on.is_(None), p.c.last_raised_due_on < next_due_on),
        )
        .values(next_due_on=next_due_on, next_due_source=source, active=True, updated_at=now)
    )


async def upsert_next_service_plan(conn: AsyncConnection, values: Row) -> None:
    """Create the plan that carries technician-set dates, or move its next date."""
    stmt = pg_insert(maintenance_plans).values(**values)
    p = maintenance_plans
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[p.c.plan_id],
            set_={
                "next_due_on": stmt.excluded.next_due_on,
                "next_due_source": stmt.excluded.next_due_source,
                "active": True,
                "updated_at": stmt.excluded.updated_at,
            },
            where=or_(
                p.c.last_raised_due_on.is_(None),
                p.c.last_raised_due_on < stmt.excluded.next_due_on,
            ),
        )
    )


# -- inbound email ----------------------------------------------------------------------


async def insert_email(conn: AsyncConnection, values: Row) -> bool:
    """Record an inbound email; False when its Message-ID was seen before."""
    stmt = (
        pg_insert(inbound_emails)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[inbound_emails.c.message_id])
        .returning(inbound_emails.c.email_id)
    )
    return (await conn.execute(stmt)).first() is not None


async def email_by_message_id(conn: AsyncConnection, message_id: str) -> Row | None:
    """The email recorded under a Message-ID."""
    e = inbound_emails
    return _one((await conn.execute(select(e).where(e.c.message_id == message_id))).first())


async def lock_email(conn: AsyncConnection, email_id: str) -> Row | None:
    """One email, locked until the transaction ends."""
    e = inbound_emails
    return _one(
        (await conn.execute(select(e).where(e.c.email_id == email_id).with_for_update())).first()
    )


async def update_email(conn: AsyncConnection, email_id: str, values: Row) -> None:
    """Change some columns of one email."""
    await conn.execute(
        update(inbound_emails).where(inbound_emails.c.email_id == email_id).values(**values)
    )


async def list_emails(
    conn: AsyncConnection, *, status: str | None, limit: int, offset: int = 0
) -> list[Row]:
    """Inbound emails, newest first."""
    e = inbound_emails
    query = select(e).order_by(e.c.received_at.desc(), e.c.email_id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(e.c.status == status)
    return [dict(r._mapping) for r in await conn.execute(query)]
