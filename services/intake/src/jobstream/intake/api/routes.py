"""Intake's routes: log a request, read work orders."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi.encoders import jsonable_encoder

from jobstream.auth import Principal, Role, require_roles
from jobstream.contracts.common import Channel
from jobstream.idempotency import lock_key, remember, remembered, request_hash
from jobstream.intake import handlers
from jobstream.intake.api.schemas import LogRequestBody, WorkOrderView
from jobstream.intake.db import queries
from jobstream.intake.db.tables import idempotency_keys
from jobstream.intake.domain.work_order import DomainError, LogRequest
from jobstream.service import Runtime, get_runtime

router = APIRouter(prefix="/requests", tags=["requests"])

Office = require_roles(Role.DISPATCHER, Role.CUSTOMER)
Reader = require_roles(Role.DISPATCHER, Role.CUSTOMER, Role.ANALYST)


def _check_customer_scope(principal: Principal, customer_id: str) -> None:
    if principal.role is Role.CUSTOMER and principal.customer_id != customer_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkOrderView,
    summary="Log a request (and, in this skeleton, release its work order)",
    responses={409: {"description": "Concurrent edit"}, 422: {"description": "Invalid field"}},
)
async def log_request(
    body: LogRequestBody,
    response: Response,
    principal: Annotated[Principal, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """Log a request from the office (phone), the portal (customer) or the API."""
    _check_customer_scope(principal, body.customer_id)
    channel = body.channel or (Channel.PORTAL if principal.role is Role.CUSTOMER else Channel.PHONE)
    digest = request_hash(body.model_dump(mode="json"))
    scope = f"log_request:{principal.subject}"
    assert runtime.store is not None
    async with runtime.engine.begin() as conn:
        if idempotency_key:
            await lock_key(conn, scope, idempotency_key)
            previous = await remembered(conn, idempotency_keys, scope, idempotency_key, digest)
            if previous is not None:
                response.status_code = previous[0]
                response.headers["Idempotent-Replayed"] = "true"
                return previous[1]
        cmd = LogRequest(
            work_order_id=f"wo-{uuid.uuid4()}",
            customer_id=body.customer_id,
            site=body.site,
            channel=channel,
            description=body.description,
            priority=body.priority,
            job_type=body.job_type,
            logged_by=principal.subject,
        )
        try:
            await handlers.log_request(conn, runtime.store, cmd, correlation_id=None)
        except DomainError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=[{"loc": ["body", exc.field or "body"], "msg": str(exc)}],
            ) from exc
        row = await queries.get_work_order(conn, cmd.work_order_id)
        view = jsonable_encoder(WorkOrderView.model_validate(row))
        if idempotency_key:
            await remember(conn, idempotency_keys, scope, idempotency_key, digest, 201, view)
    return view


@router.get("/{work_order_id}", response_model=WorkOrderView, summary="One work order")
async def get_request(
    work_order_id: str,
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Any:
    """A work order; customers see only their own."""
    async with runtime.engine.connect() as conn:
        row = await queries.get_work_order(conn, work_order_id)
    if row is None or (
        principal.role is Role.CUSTOMER and row["customer_id"] != principal.customer_id
    ):
        # A customer probing someone else's id learns nothing: 404 either way.
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such work order")
    return row


@router.get("", response_model=list[WorkOrderView], summary="Newest work orders")
async def list_requests(
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The newest work orders; customers see only their own."""
    customer = principal.customer_id if principal.role is Role.CUSTOMER else None
    async with runtime.engine.connect() as conn:
        return await queries.list_work_orders(conn, customer_id=customer, limit=limit)
