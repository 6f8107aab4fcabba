"""What logging a request would give, before it is logged.

The SLA deadlines its priority and contract imply, and the open request at the same site it
may duplicate. Read-only, so the office can warn the caller before saving (the front door's
log-a-call page).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict

from jobstream.auth import Role
from jobstream.errors import NotFoundError
from jobstream.intake import handlers
from jobstream.intake.api.common import Logger, RuntimeDep, SettingsDep, responses
from jobstream.intake.api.schemas import LogRequestBody
from jobstream.intake.db import queries
from jobstream.intake.db.tables import sites
from jobstream.intake.domain.duplicates import OpenRequest, most_similar_open_request
from jobstream.intake.domain.sla import deadlines

router = APIRouter(tags=["requests"])


class PossibleDuplicate(BaseModel):
    """An open request at the same site that reads alike."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"work_order_id": "wo-8f2c", "similarity": 0.82, "description": "Boiler leaking"}
            ]
        }
    )

    work_order_id: str
    similarity: float
    description: str


class RequestPreview(BaseModel):
    """What logging the request now would set."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "respond_by": "2026-12-02T13:00:00Z",
                    "resolve_by": "2026-12-02T17:00:00Z",
                    "contract_id": "ct-gold-1",
                    "possible_duplicate": None,
                }
            ]
        }
    )

    respond_by: datetime
    resolve_by: datetime
    contract_id: str | None
    possible_duplicate: PossibleDuplicate | None


@router.post(
    "/requests/preview",
    response_model=RequestPreview,
    summary="Preview a request: its SLA deadlines and a possible duplicate (nothing is saved)",
    responses=responses(401, 403, 404, 422),
)
async def preview_request(
    body: LogRequestBody, principal: Logger, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """The deadlines and duplicate check of `POST /requests`, without logging anything."""
    now = datetime.now(UTC)
    async with runtime.engine.connect() as conn:
        if principal.role is Role.CUSTOMER:
            if body.customer_id != principal.customer_id:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, detail="a customer previews only their own requests"
                )
            site = await queries.get_record(conn, sites, body.site_id)
            if site is None or site["customer_id"] != principal.customer_id:
                raise NotFoundError(f"no site {body.site_id}")
        ctx = await handlers.resolve_context(
            conn,
            customer_id=body.customer_id,
            site_id=body.site_id,
            asset_id=body.asset_id,
            contact_id=body.contact_id,
            contract_id=body.contract_id,
            at=now,
        )
        respond_by, resolve_by = deadlines(
            ctx.terms, body.priority, now, ZoneInfo(ctx.site.time_zone)
        )
        candidates = [
            OpenRequest(**row) for row in await queries.open_requests_at(conn, body.site_id)
        ]
    found = most_similar_open_request(
        body.site_id,
        body.asset_id,
        body.description,
        candidates,
        threshold=settings.duplicate_threshold,
    )
    duplicate = (
        PossibleDuplicate(
            work_order_id=found[0].work_order_id,
            similarity=found[1],
            description=found[0].description,
        )
        if found
        else None
    )
    return RequestPreview(
        respond_by=respond_by,
        resolve_by=resolve_by,
        contract_id=ctx.contract_id,
        possible_duplicate=duplicate,
    )
