"""Customers, sites, contacts, assets, contracts and job types."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import IdempotencyKey
from jobstream.errors import InvalidInputError, NotFoundError
from jobstream.intake.api.common import (
    Limit,
    Office,
    OfficeReader,
    Offset,
    Reader,
    RuntimeDep,
    create_record,
    get_visible,
    list_visible,
    responses,
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

Search = Annotated[
    str | None, Query(max_length=200, description="Text found (any case) in the main fields")
]


def _new_id(prefix: str, given: str | None) -> str:
    return given or f"{prefix}-{uuid.uuid4()}"


async def _customer_must_exist(conn: AsyncConnection, customer_id: str) -> None:
    if await queries.get_record(conn, customers, customer_id) is None:
        raise InvalidInputError(f"no customer {customer_id}", field="customer_id")


async def _site_of_customer(
    conn: AsyncConnection, customer_id: str, site_id: str, field: str
) -> None:
    site = await queries.get_record(conn, sites, site_id)
    if site is None or site["customer_id"] != customer_id:
        raise InvalidInputError(f"customer {customer_id} has no site {site_id}", field=field)


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

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        row = body.model_dump() | {"customer_id": _new_id("cust", body.customer_id)}
        if row["billing_email"]:
            row["billing_email"] = row["billing_email"].lower()
        return row

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=customers, values=values
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
    columns = ("name", "phone", "billing_email", "billing_address", "customer_id")
    return await list_visible(
        runtime, principal, customers, limit=limit, offset=offset, search=(q, columns)
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerView,
    summary="One customer",
    responses=responses(401, 403, 404),
)
async def get_customer(customer_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A customer; a customer sees only their own account."""
    return await get_visible(runtime, principal, customers, customer_id)


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

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        await _customer_must_exist(conn, body.customer_id)
        return body.model_dump(exclude={"location"}) | {
            "site_id": _new_id("site", body.site_id),
            "lat": body.location.lat,
            "lon": body.location.lon,
        }

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=sites, values=values
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
    """Sites, optionally of one customer (``q`` finds them by name or address).

    A customer sees only their own.
    """
    return await list_visible(
        runtime,
        principal,
        sites,
        limit=limit,
        offset=offset,
        search=(q, ("name", "address", "site_id")),
        customer_id=customer_id,
    )


@router.get(
    "/sites/{site_id}",
    response_model=SiteView,
    summary="One site",
    responses=responses(401, 403, 404),
)
async def get_site(site_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A site; a customer sees only their own."""
    return await get_visible(runtime, principal, sites, site_id)


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

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        await _customer_must_exist(conn, body.customer_id)
        if body.site_id is not None:
            await _site_of_customer(conn, body.customer_id, body.site_id, "site_id")
        row = body.model_dump() | {"contact_id": _new_id("ct", body.contact_id)}
        if row["email"]:
            row["email"] = row["email"].lower()
        return row

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=contacts, values=values
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
    return await list_visible(
        runtime,
        principal,
        contacts,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
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

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        site = await queries.get_record(conn, sites, body.site_id)
        if site is None:
            raise InvalidInputError(f"no site {body.site_id}", field="site_id")
        return body.model_dump() | {
            "asset_id": _new_id("asset", body.asset_id),
            "customer_id": site["customer_id"],
        }

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=assets, values=values
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
    return await list_visible(
        runtime,
        principal,
        assets,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
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
    return await get_visible(runtime, principal, assets, asset_id)


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
    """SLA terms for a customer (all sites, or those listed).

    Response and resolution targets per priority, counted round the clock or in business hours.
    """

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        await _customer_must_exist(conn, body.customer_id)
        for site_id in body.site_ids:
            await _site_of_customer(conn, body.customer_id, site_id, "site_ids")
        return {
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

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=service_contracts, values=values
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
    return await list_visible(
        runtime, principal, service_contracts, limit=limit, offset=offset, customer_id=customer_id
    )


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractView,
    summary="One service contract",
    responses=responses(401, 403, 404),
)
async def get_contract(contract_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A contract; a customer sees only their own."""
    return await get_visible(runtime, principal, service_contracts, contract_id)


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
        raise NotFoundError(f"no job type {code}")
    return _job_type_view(code)
