"""The office's work order list, kept from intake's own events in the command's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.intake import (
    ApprovalRequested,
    DuplicateLinked,
    PossibleDuplicateFlagged,
    RequestLogged,
    RequestPriorityChanged,
    VisitRated,
    WorkOrderAmended,
    WorkOrderApproved,
    WorkOrderCancelled,
    WorkOrderDetailsUpdated,
    WorkOrderRejected,
    WorkOrderReleased,
)
from jobstream.eventstore.store import RecordedEvent
from jobstream.intake.db import queries
from jobstream.intake.domain.work_order import WorkOrder

Columns = dict[str, Any]


def _details_columns(details: Any) -> Columns:
    return {
        "details": details.model_dump(mode="json"),
        "job_type": details.job_type,
        "description": details.description,
        "asset_id": details.asset.asset_id if details.asset else None,
    }


async def project_request_logged(conn: AsyncConnection, event: RequestLogged, row: Columns) -> None:
    """A new row."""
    await queries.insert_work_order(
        conn,
        {
            **row,
            "work_order_id": event.work_order_id,
            "customer_id": event.customer_id,
            "customer_name": event.customer_name,
            "site_id": event.site.site_id,
            "asset_id": event.asset.asset_id if event.asset else None,
            "contract_id": event.contract_id,
            "channel": event.channel.value,
            "job_type": event.job_type,
            "description": event.description,
            "priority": event.priority.value,
            "logged_at": event.logged_at,
            "logged_by": event.logged_by,
            "respond_by": event.respond_by,
            "resolve_by": event.resolve_by,
            "external_reference": event.external_reference,
            "follow_up_of": event.follow_up_of,
            "maintenance_plan_id": event.maintenance_plan_id,
        },
    )


async def project_possible_duplicate_flagged(
    conn: AsyncConnection, event: PossibleDuplicateFlagged, row: Columns
) -> None:
    """Show the flag."""
    row |= {"possible_duplicate_of": event.possible_duplicate_of, "similarity": event.similarity}
    await queries.update_work_order(conn, event.work_order_id, row)


async def project_duplicate_linked(
    conn: AsyncConnection, event: DuplicateLinked, row: Columns
) -> None:
    """Closed as a duplicate."""
    await queries.update_work_order(
        conn, event.work_order_id, row | {"duplicate_of": event.duplicate_of}
    )


async def project_request_priority_changed(
    conn: AsyncConnection, event: RequestPriorityChanged, row: Columns
) -> None:
    """New priority, new deadlines."""
    row |= {
        "priority": event.priority.value,
        "respond_by": event.respond_by,
        "resolve_by": event.resolve_by,
    }
    await queries.update_work_order(conn, event.work_order_id, row)


async def project_work_order_details_updated(
    conn: AsyncConnection, event: WorkOrderDetailsUpdated, row: Columns
) -> None:
    """The draft details."""
    await queries.update_work_order(
        conn, event.work_order_id, row | _details_columns(event.details)
    )


async def project_approval_requested(
    conn: AsyncConnection, event: ApprovalRequested, row: Columns
) -> None:
    """Waiting for a decision."""
    await queries.update_work_order(
        conn, event.work_order_id, row | {"approval_reason": event.reason}
    )


async def project_status_only(conn: AsyncConnection, event: Event, row: Columns) -> None:
    """Approved, rejected: the status says it all."""
    await queries.update_work_order(conn, event.subject, row)


async def project_work_order_released(
    conn: AsyncConnection, event: WorkOrderReleased, row: Columns
) -> None:
    """Released with its details."""
    row |= _details_columns(event.details) | {"released_at": event.released_at}
    await queries.update_work_order(conn, event.work_order_id, row)


async def project_work_order_amended(
    conn: AsyncConnection, event: WorkOrderAmended, row: Columns
) -> None:
    """The details as amended."""
    row |= _details_columns(event.details) | {
        "priority": event.details.priority.value,
        "respond_by": event.details.respond_by,
        "resolve_by": event.details.resolve_by,
    }
    await queries.update_work_order(conn, event.work_order_id, row)


async def project_work_order_cancelled(
    conn: AsyncConnection, event: WorkOrderCancelled, row: Columns
) -> None:
    """Cancelled."""
    await queries.update_work_order(
        conn, event.work_order_id, row | {"cancelled_at": event.cancelled_at}
    )


async def project_visit_rated(conn: AsyncConnection, event: VisitRated, row: Columns) -> None:
    """The customer's rating.

    The status stays what the field made it (completed): intake's own state of a completed
    job is still released.
    """
    row = {k: v for k, v in row.items() if k != "status"}
    row |= {"rating": event.score, "rating_comment": event.comment, "rated_at": event.rated_at}
    await queries.update_work_order(conn, event.work_order_id, row)


Projection = Callable[[AsyncConnection, Any, Columns], Awaitable[None]]
PROJECTIONS: dict[type[Event], Projection] = {
    RequestLogged: project_request_logged,
    PossibleDuplicateFlagged: project_possible_duplicate_flagged,
    DuplicateLinked: project_duplicate_linked,
    RequestPriorityChanged: project_request_priority_changed,
    WorkOrderDetailsUpdated: project_work_order_details_updated,
    ApprovalRequested: project_approval_requested,
    WorkOrderApproved: project_status_only,
    WorkOrderRejected: project_status_only,
    WorkOrderReleased: project_work_order_released,
    WorkOrderAmended: project_work_order_amended,
    WorkOrderCancelled: project_work_order_cancelled,
    VisitRated: project_visit_rated,
}


async def project(conn: AsyncConnection, recorded: RecordedEvent, state: WorkOrder) -> None:
    """Apply one just-appended event; ``state`` is the work order after it."""
    row = {
        "status": state.status.value,
        "version": recorded.stream_version,
        "updated_at": recorded.occurred_at,
    }
    await PROJECTIONS[type(recorded.data)](conn, recorded.data, row)
