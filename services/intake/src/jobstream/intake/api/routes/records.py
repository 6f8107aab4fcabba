"""Customers, sites, contacts, assets, contracts and job types."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.auth import Principal, Role
from jobstream.intake.api.common import (
    IdempotencyKey,
    Office,
    OfficeReader,
    Reader,
    RuntimeDep,
    mutate,
    responses,
    unprocessable,
)
from jobstream.intake.api.schemas import (
    AssetBody,
    AssetView,
    ContactBody,
    ContactView,
    ContractBody,
    ContractView,
    CustomerBody,
    CustomerView,
    JobTypeView,
    SiteBody,
    SiteView,
)
from jobstream.intake.db import queries
from jobstream.intake.db.tables import assets, contacts, customers, service_contracts, sites
from jobstream.intake.domain.job_types import JOB_TYPES

router = APIRouter(tags=["records"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
Search = Annotated[
    str | None, Query(max_length=200, description="Text found (any case) in the main fields")
]


def _new_id(prefix: str, given: str | None) -> str:
    return given or f"{prefix}-{uuid.uuid4()}"


def _own_customer(principal: Principal, customer_id: str | None) -> str | None:
    """Customers see only their own records: force (or check) the filter."""
    if principal.role is Role.CUSTOMER:
        if customer_id is not None and customer_id != principal.customer_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")
        return principal.customer_id
    return customer_id


async def _create(
    conn: AsyncConnection, table: Table, values: dict[str, Any], what: str
) -> dict[str, Any]:
    key = next(iter(table.primary_key.columns)).name
    if not await queries.insert_record(conn, table, values):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"{what} {values[key]} already exists")
    row = await queries.get_record(conn, table, values[key])
    assert row is not None
    return row


async def _customer_must_exist(conn: AsyncConnection, customer_id: str) -> None:
    if await queries.get_record(conn, customers, customer_id) is None:
        raise unprocessable("customer_id", f"no customer {customer_id}")


async def _get_or_404(
    conn: AsyncConnection, table: Table, record_id: str, principal: Principal, what: str
) -> dict[str, Any]:
    row = await queries.get_record(conn, table, record_id)
    if row is None or (
        principal.role is Role.CUSTOMER and row.get("customer_id") != principal.customer_id
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what} {record_id}")
    return row


# -- customers --------------------------------------------------------------------------


@router.post(
    "/customers",
    response_model=CustomerView,
    status_code=201,
    summary="Create a customer",
    responses=responses(401, 403, 409, 422),
)
async def create_customer(
    body: CustomerBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Create a customer (the bill-to party); 409 if the id is taken."""

    async def work(conn: AsyncConnection) -> Any:
        values = body.model_dump() | {"customer_id": _new_id("cust", body.customer_id)}
        if values["billing_email"]:
            values["billing_email"] = values["billing_email"].lower()
        return await _create(conn, customers, values, "customer")

    return await mutate(
        runtime,
        principal,
        scope="create_customer",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


@router.get(
    "/customers",
    response_model=list[CustomerView],
    summary="List customers",
    responses=responses(401, 403),
)
async def list_customers(
    principal: OfficeReader,
    runtime: RuntimeDep,
    limit: Limit = 100,
    offset: Offset = 0,
    q: Search = None,
) -> Any:
    """Customers by id; ``q`` finds them by name, phone, email or billing address."""
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            customers,
            limit=limit,
            offset=offset,
            search=(q, ("name", "phone", "billing_email", "billing_address", "customer_id")),
        )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerView,
    summary="One customer",
    responses=responses(401, 403, 404),
)
async def get_customer(customer_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A customer; a customer sees only their own account."""
    async with runtime.engine.connect() as conn:
        return await _get_or_404(conn, customers, customer_id, principal, "customer")


# -- sites ------------------------------------------------------------------------------


@router.post(
    "/sites",
    response_model=SiteView,
    status_code=201,
    summary="Create a site",
    responses=responses(401, 403, 409, 422),
)
async def create_site(
    body: SiteBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Add a service address to a customer."""

    async def work(conn: AsyncConnection) -> Any:
        await _customer_must_exist(conn, body.customer_id)
        values = body.model_dump(exclude={"location"}) | {
            "site_id": _new_id("site", body.site_id),
            "lat": body.location.lat,
            "lon": body.location.lon,
        }
        return await _create(conn, sites, values, "site")

    return await mutate(
        runtime,
        principal,
        scope="create_site",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


@router.get(
    "/sites", response_model=list[SiteView], summary="List sites", responses=responses(401, 403)
)
async def list_sites(
    principal: Reader,
    runtime: RuntimeDep,
    customer_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    q: Search = None,
) -> Any:
    """Sites, optionally of one customer (``q`` finds them by name or address); a customer
    sees only their own."""
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            sites,
            limit=limit,
            offset=offset,
            search=(q, ("name", "address", "site_id")),
            customer_id=_own_customer(principal, customer_id),
        )


@router.get(
    "/sites/{site_id}",
    response_model=SiteView,
    summary="One site",
    responses=responses(401, 403, 404),
)
async def get_site(site_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A site; a customer sees only their own."""
    async with runtime.engine.connect() as conn:
        return await _get_or_404(conn, sites, site_id, principal, "site")


# -- contacts ---------------------------------------------------------------------------


@router.post(
    "/contacts",
    response_model=ContactView,
    status_code=201,
    summary="Create a contact",
    responses=responses(401, 403, 409, 422),
)
async def create_contact(
    body: ContactBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Add a contact to a customer (optionally tied to one of its sites)."""

    async def work(conn: AsyncConnection) -> Any:
        await _customer_must_exist(conn, body.customer_id)
        if body.site_id is not None:
            site = await queries.get_record(conn, sites, body.site_id)
            if site is None or site["customer_id"] != body.customer_id:
                raise unprocessable(
                    "site_id", f"customer {body.customer_id} has no site {body.site_id}"
                )
        values = body.model_dump() | {"contact_id": _new_id("ct", body.contact_id)}
        if values["email"]:
            values["email"] = values["email"].lower()
        return await _create(conn, contacts, values, "contact")

    return await mutate(
        runtime,
        principal,
        scope="create_contact",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


@router.get(
    "/contacts",
    response_model=list[ContactView],
    summary="List contacts",
    responses=responses(401, 403),
)
async def list_contacts(
    principal: Reader,
    runtime: RuntimeDep,
    customer_id: str | None = None,
    site_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Contacts, optionally of one customer or site."""
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            contacts,
            limit=limit,
            offset=offset,
            customer_id=_own_customer(principal, customer_id),
            site_id=site_id,
        )


# -- assets -----------------------------------------------------------------------------


@router.post(
    "/assets",
    response_model=AssetView,
    status_code=201,
    summary="Create an asset",
    responses=responses(401, 403, 409, 422),
)
async def create_asset(
    body: AssetBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Record equipment at a site."""

    async def work(conn: AsyncConnection) -> Any:
        site = await queries.get_record(conn, sites, body.site_id)
        if site is None:
            raise unprocessable("site_id", f"no site {body.site_id}")
        values = body.model_dump() | {
            "asset_id": _new_id("asset", body.asset_id),
            "customer_id": site["customer_id"],
        }
        return await _create(conn, assets, values, "asset")

    return await mutate(
        runtime,
        principal,
        scope="create_asset",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


@router.get(
    "/assets", response_model=list[AssetView], summary="List assets", responses=responses(401, 403)
)
async def list_assets(
    principal: Reader,
    runtime: RuntimeDep,
    customer_id: str | None = None,
    site_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Assets, optionally of one customer or site."""
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            assets,
            limit=limit,
            offset=offset,
            customer_id=_own_customer(principal, customer_id),
            site_id=site_id,
        )


@router.get(
    "/assets/{asset_id}",
    response_model=AssetView,
    summary="One asset",
    responses=responses(401, 403, 404),
)
async def get_asset(asset_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """An asset; a customer sees only their own."""
    async with runtime.engine.connect() as conn:
        return await _get_or_404(conn, assets, asset_id, principal, "asset")


# -- contracts --------------------------------------------------------------------------


@router.post(
    "/contracts",
    response_model=ContractView,
    status_code=201,
    summary="Create a service contract",
    responses=responses(401, 403, 409, 422),
)
async def create_contract(
    body: ContractBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """SLA terms for a customer (all sites, or those listed): response and resolution
    targets per priority, counted round the clock or in business hours."""

    async def work(conn: AsyncConnection) -> Any:
        await _customer_must_exist(conn, body.customer_id)
        for site_id in body.site_ids:
            site = await queries.get_record(conn, sites, site_id)
            if site is None or site["customer_id"] != body.customer_id:
                raise unprocessable(
                    "site_ids", f"customer {body.customer_id} has no site {site_id}"
                )
        values = {
            "contract_id": _new_id("ctr", body.contract_id),
            "customer_id": body.customer_id,
            "name": body.name,
            "targets": body.stored_targets(),
            "business_hours": body.stored_hours(),
            "holidays": [d.isoformat() for d in body.holidays],
            "site_ids": body.site_ids,
            "valid_from": body.valid_from,
            "valid_to": body.valid_to,
        }
        return await _create(conn, service_contracts, values, "contract")

    return await mutate(
        runtime,
        principal,
        scope="create_contract",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


@router.get(
    "/contracts",
    response_model=list[ContractView],
    summary="List service contracts",
    responses=responses(401, 403),
)
async def list_contracts(
    principal: Reader,
    runtime: RuntimeDep,
    customer_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Contracts, optionally of one customer."""
    async with runtime.engine.connect() as conn:
        return await queries.list_records(
            conn,
            service_contracts,
            limit=limit,
            offset=offset,
            customer_id=_own_customer(principal, customer_id),
        )


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractView,
    summary="One service contract",
    responses=responses(401, 403, 404),
)
async def get_contract(contract_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A contract; a customer sees only their own."""
    async with runtime.engine.connect() as conn:
        return await _get_or_404(conn, service_contracts, contract_id, principal, "contract")


# -- job types --------------------------------------------------------------------------


def _job_type_view(code: str) -> dict[str, Any]:
    jt = JOB_TYPES[code]
    return {
        "code": jt.code,
        "description": jt.description,
        "required_skills": list(jt.required_skills),
        "required_certifications": list(jt.required_certifications),
        "estimated_duration_minutes": jt.estimated_duration_minutes,
        "parts": list(jt.parts),
        "safety_requirements": list(jt.safety_requirements),
        "checklist": jt.checklist,
        "needs_approval": jt.needs_approval,
    }


@router.get(
    "/job-types",
    response_model=list[JobTypeView],
    summary="List job type templates",
    responses=responses(401, 403),
)
async def list_job_types(principal: Reader) -> Any:
    """Every template a work order can start from."""
    return [_job_type_view(code) for code in sorted(JOB_TYPES)]


@router.get(
    "/job-types/{code}",
    response_model=JobTypeView,
    summary="One job type template",
    responses=responses(401, 403, 404),
)
async def get_job_type(code: str, principal: Reader) -> Any:
    """A template: skills, certifications, duration, parts, safety and checklist."""
    if code not in JOB_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job type {code}")
    return _job_type_view(code)
