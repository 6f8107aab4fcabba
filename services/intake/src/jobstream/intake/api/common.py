"""What every intake route shares: roles, settings, visibility and the command wrapper.

Refusals become answers in the shared handlers (``jobstream.api.errors``); the
Idempotency-Key and If-Match helpers are in ``jobstream.api.commands``. The plain records
(customers, sites, contacts, assets, contracts, plans, emails) are created, listed and read
by the same three functions here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import run_command
from jobstream.auth import Principal, Role, require_roles
from jobstream.errors import ConflictError, NotFoundError
from jobstream.eventstore.store import EventStore
from jobstream.intake.config import IntakeSettings, get_settings
from jobstream.intake.db import queries
from jobstream.intake.db.tables import (
    assets,
    contacts,
    customers,
    idempotency_keys,
    inbound_emails,
    maintenance_plans,
    service_contracts,
    sites,
)
from jobstream.objectstore import ObjectStore, object_store_from_settings
from jobstream.service import Runtime, get_runtime

Office = Annotated[Principal, Depends(require_roles(Role.DISPATCHER))]
# Approving spends money: the office manager (admin) decides, not the dispatcher.
Approver = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ANALYST, Role.CUSTOMER))]
OfficeReader = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ANALYST))]
Logger = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.CUSTOMER))]


async def customer_only(
    principal: Annotated[Principal, Depends(require_roles(Role.CUSTOMER))],
) -> Principal:
    """The caller, if a customer: for what only the customer can say, such as how the visit went.

    Not even an admin says it for them.
    """
    if principal.role is not Role.CUSTOMER:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value} may not do this; allowed: customer",
        )
    return principal


Customer = Annotated[Principal, Depends(customer_only)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IfMatch = Annotated[
    str | None,
    Header(
        description='The version you saw (the ETag of GET /work-orders/{id}, e.g. "3"); '
        "a newer version answers 409.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid bearer token"},
    403: {"description": "The caller's role may not do this"},
    404: {"description": "No such record (or not the caller's)"},
    409: {"description": "Not allowed in the current state, or a concurrent edit"},
    422: {"description": "Invalid input; `detail[].loc` names the field"},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses an operation documents."""
    return {code: ERRORS[code] for code in codes}


async def intake_settings(request: Request) -> IntakeSettings:
    """This process's intake settings, read from the environment once.

    Async, so FastAPI does not hand each request to a worker thread for it.
    """
    settings = getattr(request.app.state, "intake_settings", None)
    if settings is None:
        settings = request.app.state.intake_settings = get_settings()
    return settings


async def object_store(request: Request) -> ObjectStore:
    """This process's object store."""
    store = getattr(request.app.state, "intake_object_store", None)
    if store is None:
        store = request.app.state.intake_object_store = object_store_from_settings()
    return store


SettingsDep = Annotated[IntakeSettings, Depends(intake_settings)]
ObjectStoreDep = Annotated[ObjectStore, Depends(object_store)]


def visible(row: dict[str, Any] | None, principal: Principal) -> bool:
    """Whether the caller may see this row (a work order, a record): a customer only their own."""
    if row is None:
        return False
    return principal.role is not Role.CUSTOMER or row["customer_id"] == principal.customer_id


def event_store(runtime: Runtime) -> EventStore:
    """The work order event store."""
    assert runtime.store is not None, "intake always has an event store"
    return runtime.store


async def mutate(
    runtime: Runtime,
    principal: Principal,
    *,
    scope: str,
    idempotency_key: str | None,
    body: Any,
    response: Response,
    status_code: int,
    work: Callable[[AsyncConnection], Awaitable[Any]],
) -> Any:
    """Run ``work`` in one transaction; with an Idempotency-Key, a retry gets the first answer."""
    answer = await run_command(
        runtime.engine,
        idempotency_keys,
        principal,
        command=scope,
        key=idempotency_key,
        payload=body,
        status_code=status_code,
        work=work,
    )
    return answer.onto(response)


# -- records ----------------------------------------------------------------------------

# What a record is called in answers ("no site …", "site … already exists") and in the
# Idempotency-Key scope of its creation ("create_site").
RECORD_NAMES: dict[Table, str] = {
    customers: "customer",
    sites: "site",
    contacts: "contact",
    assets: "asset",
    service_contracts: "contract",
    maintenance_plans: "plan",
    inbound_emails: "inbound email",
}


def own_customer(principal: Principal, customer_id: str | None) -> str | None:
    """The customer a list is filtered by: for a customer, always their own (403 for another)."""
    if principal.role is Role.CUSTOMER:
        if customer_id is not None and customer_id != principal.customer_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")
        return principal.customer_id
    return customer_id


async def create_record(
    runtime: Runtime,
    principal: Principal,
    response: Response,
    idempotency_key: str | None,
    body: BaseModel,
    *,
    table: Table,
    values: Callable[[AsyncConnection], Awaitable[dict[str, Any]]],
) -> Any:
    """Insert the record ``values`` gives (after the checks it makes) in one transaction.

    The answer is the stored row (201), or 409 if its id is taken; with an Idempotency-Key
    (scoped to ``create_<record>``), a retry of ``body`` gets the first answer.
    """
    name = RECORD_NAMES[table]
    key = next(iter(table.primary_key.columns)).name

    async def work(conn: AsyncConnection) -> Any:
        row = await values(conn)
        if not await queries.insert_record(conn, table, row):
            raise ConflictError(f"{name} {row[key]} already exists")
        return await queries.get_record(conn, table, row[key])

    return await mutate(
        runtime,
        principal,
        scope=f"create_{name}",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


async def list_visible(
    runtime: Runtime,
    principal: Principal,
    table: Table,
    *,
    limit: int,
    offset: int,
    search: tuple[str | None, tuple[str, ...]] = (None, ()),
    customer_id: str | None = None,
    **equals: str | None,
) -> list[dict[str, Any]]:
    """A page of records by id, filtered as ``queries.list_records`` is (None: no filter).

    A customer sees only their own, and gets 403 for another customer's ``customer_id``.
    """
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            table,
            limit=limit,
            offset=offset,
            search=search,
            customer_id=own_customer(principal, customer_id),
            **equals,
        )


async def get_visible(
    runtime: Runtime, principal: Principal, table: Table, record_id: str
) -> dict[str, Any]:
    """One record, if the caller may see it (a customer only their own); else 404."""
    async with runtime.engine.connect() as conn:
        row = await queries.get_record(conn, table, record_id)
    if row is None or not visible(row, principal):
        raise NotFoundError(f"no {RECORD_NAMES[table]} {record_id}")
    return row
