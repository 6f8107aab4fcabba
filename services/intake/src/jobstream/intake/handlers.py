"""Intake's command handlers: load, fold, decide, append — one transaction each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.intake import RequestLogged
from jobstream.eventstore.store import EventStore
from jobstream.intake.db import queries
from jobstream.intake.domain.work_order import (
    LogRequest,
    Status,
    WorkOrder,
    decide_log_request,
    evolve,
)


async def log_request(
    conn: AsyncConnection, store: EventStore, cmd: LogRequest, correlation_id: str | None
) -> list[RequestLogged]:
    """Log a request (and release it, in the skeleton); returns the RequestLogged event."""
    state, version = await store.fold(conn, cmd.work_order_id, WorkOrder(cmd.work_order_id), evolve)
    new_events = decide_log_request(state, cmd, datetime.now(UTC))
    recorded = await store.append(
        conn, cmd.work_order_id, version, new_events, correlation_id=correlation_id
    )
    logged = [e.data for e in recorded if isinstance(e.data, RequestLogged)]
    await queries.insert_work_order(
        conn, logged[0], cmd.job_type, Status.RELEASED.value, recorded[-1].stream_version
    )
    return logged
