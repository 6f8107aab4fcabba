"""Billing's routes: read invoices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from jobstream.auth import Principal, Role, require_roles
from jobstream.billing.db import queries
from jobstream.service import Runtime, get_runtime

router = APIRouter(prefix="/invoices", tags=["invoices"])
Reader = require_roles(Role.DISPATCHER, Role.ANALYST, Role.CUSTOMER)


@router.get("", summary="Invoices, newest first")
async def list_invoices(
    principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    work_order_id: str | None = None,
    customer_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Customers see only their own invoices."""
    if principal.role is Role.CUSTOMER:
        if customer_id not in (None, principal.customer_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")
        customer_id = principal.customer_id
    async with runtime.engine.connect() as conn:
        return await queries.list_invoices(
            conn, customer_id=customer_id, work_order_id=work_order_id, limit=limit
        )
