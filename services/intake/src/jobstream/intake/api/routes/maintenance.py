"""Maintenance plans, and raising the requests that fall due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import IdempotencyKey
from jobstream.errors import InvalidInputError
from jobstream.intake import planner
from jobstream.intake.api.common import (
    Limit,
    Office,
    Offset,
    Reader,
    RuntimeDep,
    SettingsDep,
    create_record,
    event_store,
    get_visible,
    list_visible,
    responses,
)
from jobstream.intake.api.schemas import PlanBody, PlanView, RaiseDueBody, RaisedView
from jobstream.intake.db import queries
from jobstream.intake.db.tables import assets, maintenance_plans, sites
from jobstream.intake.domain.job_types import JOB_TYPES, job_type
from jobstream.intake.domain.maintenance import Recurrence

router = APIRouter(tags=["planned maintenance"])


@router.post(
    "/maintenance-plans",
    response_model=PlanView,
    status_code=201,
    summary="Create a maintenance plan",
    responses=responses(401, 403, 409, 422),
)
async def create_plan(
    body: PlanBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A plan raises a request for each occurrence `lead_days` before it is due."""
    template = job_type(body.job_type)
    if template is None:
        raise InvalidInputError(
            f"unknown job type {body.job_type!r}; known: {', '.join(sorted(JOB_TYPES))}",
            field="job_type",
        )
    recurrence = Recurrence(body.starts_on, body.every_months, body.rule)
    first = recurrence.first()

    async def values(conn: AsyncConnection) -> dict[str, Any]:
        site = await queries.get_record(conn, sites, body.site_id)
        if site is None:
            raise InvalidInputError(f"no site {body.site_id}", field="site_id")
        if body.asset_id is not None:
            asset = await queries.get_record(conn, assets, body.asset_id)
            if asset is None or asset["site_id"] != body.site_id:
                raise InvalidInputError(
                    f"site {body.site_id} has no asset {body.asset_id}", field="asset_id"
                )
        now = datetime.now(UTC)
        return {
            "plan_id": body.plan_id or f"plan-{uuid.uuid4()}",
            "customer_id": site["customer_id"],
            "site_id": body.site_id,
            "asset_id": body.asset_id,
            "job_type": body.job_type,
            "description": body.description or template.description,
            "priority": body.priority.value,
            "starts_on": body.starts_on,
            "every_months": body.every_months,
            "rule": body.rule,
            "lead_days": settings.maintenance_lead_days
            if body.lead_days is None
            else body.lead_days,
            "next_due_on": first,
            "next_due_source": "recurrence",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }

    return await create_record(
        runtime, principal, response, idempotency_key, body, table=maintenance_plans, values=values
    )


@router.get(
    "/maintenance-plans",
    response_model=list[PlanView],
    summary="List maintenance plans",
    responses=responses(401, 403),
)
async def list_plans(
    principal: Reader,
    runtime: RuntimeDep,
    customer_id: str | None = None,
    site_id: str | None = None,
    asset_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Plans, optionally of one customer, site or asset; a customer sees only their own."""
    return await list_visible(
        runtime,
        principal,
        maintenance_plans,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        site_id=site_id,
        asset_id=asset_id,
    )


@router.get(
    "/maintenance-plans/{plan_id}",
    response_model=PlanView,
    summary="One maintenance plan",
    responses=responses(401, 403, 404),
)
async def get_plan(plan_id: str, principal: Reader, runtime: RuntimeDep) -> Any:
    """A plan and its next due date."""
    return await get_visible(runtime, principal, maintenance_plans, plan_id)


@router.post(
    "/maintenance-plans/raise-due",
    response_model=list[RaisedView],
    summary="Raise requests for every plan occurrence now due",
    responses=responses(401, 403, 422),
)
async def raise_due(
    principal: Office,
    runtime: RuntimeDep,
    settings: SettingsDep,
    body: RaiseDueBody | None = None,
) -> Any:
    """What `jobstream-intake raise-due-maintenance` (run from cron) does.

    Safe to call any number of times, also concurrently: an occurrence is raised once.
    """
    now = datetime.now(UTC)
    today = body.as_of if body and body.as_of else now.date()
    raised = await planner.raise_due(
        runtime.engine, event_store(runtime), settings, today=today, now=now
    )
    return [r.__dict__ for r in raised]
