"""Dispatch's reactions to intake and field events: each one re-plans what it changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.field import (
    JobCompleted,
    JobIncomplete,
    JobPutOnHold,
    JobReopened,
    JobResumed,
    JobStarted,
    NoteAdded,
    TechnicianArrived,
    TechnicianLocated,
    TravelStarted,
)
from jobstream.contracts.intake import WorkOrderAmended, WorkOrderCancelled, WorkOrderReleased
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.db import queries
from jobstream.dispatch.domain.decision import Cause, Decision, job_spec
from jobstream.dispatch.domain.plan import PRIORITY_RANK, Visit, to_minutes
from jobstream.dispatch.scheduling import load, record
from jobstream.messaging.reactions import Delivery


def _urgent(settings: DispatchSettings, details: WorkOrderDetails) -> bool:
    return details.priority.value in settings.urgent_priorities


async def _decide(
    delivery: Delivery[DispatchSettings], at: datetime, change: Callable[[Decision], None]
) -> None:
    """Load the plan as of ``at``, let ``change`` decide, record what it decided."""
    decision = await load(delivery.conn, delivery.context, at)
    change(decision)
    await record(delivery.conn, decision, Cause(delivery.event_id, at))


async def on_work_order_released(
    e: WorkOrderReleased, delivery: Delivery[DispatchSettings]
) -> None:
    """Place the new job; an urgent one may displace lower priorities."""
    conn = delivery.conn
    fresh = await queries.insert_work_order(
        conn,
        work_order_id=e.work_order_id,
        details=e.details.model_dump(mode="json"),
        priority=e.details.priority.value,
        site_id=e.details.site.site_id,
        status="open",
        correlation_id=delivery.correlation_id,
        released_at=e.released_at,
    )
    if not fresh:
        return  # released twice under different event ids: the first one planned it

    def change(d: Decision) -> None:
        d.place(e.work_order_id, bump=_urgent(delivery.context, e.details))

    await _decide(delivery, e.released_at, change)


async def on_work_order_amended(e: WorkOrderAmended, delivery: Delivery[DispatchSettings]) -> None:
    """Keep the visit if it still fits, else move it; re-send the pack either way."""
    conn = delivery.conn
    row = await queries.work_order(conn, e.work_order_id)
    if row is None or row["status"] != "open":
        return
    await queries.update_work_order(
        conn,
        e.work_order_id,
        details=e.details.model_dump(mode="json"),
        priority=e.details.priority.value,
        site_id=e.details.site.site_id,
    )
    wo = e.work_order_id
    # A priority change on a released job reaches dispatch as this amendment.
    became_urgent = _urgent(delivery.context, e.details) and (
        row["priority"] not in delivery.context.urgent_priorities
    )

    def change(d: Decision) -> None:
        job = job_spec(
            wo, e.details, to_minutes(e.amended_at), d.settings.hard_respond_by_priorities
        )
        d.plan.jobs[wo] = job
        current = d.plan.visit_of(wo)
        if current is None:
            if not d.held(wo):
                d.place(wo, bump=_urgent(delivery.context, e.details))
            return
        d.plan.remove(wo)
        d.dispatch_again.add(wo)
        movable = not (current.frozen or current.forced)
        if became_urgent and movable and current.start > job.respond_by:
            # Raised to urgent and its slot misses the new respond-by: place it as a
            # new urgent job is placed (it may displace routine work), if that is
            # sooner; otherwise it keeps its slot (fewest moves, ADR 0020).
            sooner = d.engine.options(d.plan, job, bump=True)
            if sooner.option is not None and sooner.option.start < current.start:
                d.note(wo, f"raised to P{job.priority}: placed again as an urgent job")
                d.place(wo, bump=True)
                return
        d.plan.put(
            Visit(
                wo,
                current.technician_id,
                current.start,
                current.start + job.duration,
                current.frozen,
                current.forced,
            )
        )
        d.repair(current.technician_id, f"work order {wo} amended")

    await _decide(delivery, e.amended_at, change)


async def on_work_order_cancelled(
    e: WorkOrderCancelled, delivery: Delivery[DispatchSettings]
) -> None:
    """Free the slot; waiting jobs may take it."""
    conn = delivery.conn
    row = await queries.work_order(conn, e.work_order_id)
    if row is None or row["status"] != "open":
        return

    decision = await load(conn, delivery.context, e.cancelled_at)
    decision.unplace(e.work_order_id, f"work order cancelled: {e.reason}")
    decision.cancelled.add(e.work_order_id)
    decision.retry_unplaced()
    await record(conn, decision, Cause(delivery.event_id, e.cancelled_at))
    await queries.update_work_order(conn, e.work_order_id, status="cancelled")


async def _field_progress(
    e: TravelStarted | TechnicianArrived | JobStarted,
    delivery: Delivery[DispatchSettings],
    status: str,
    at: datetime,
    *,
    actual: str | None,
) -> None:
    conn = delivery.conn
    row = await queries.work_order(conn, e.work_order_id)
    if row is None or row["status"] != "open":
        return
    values: dict[str, object] = {"field_status": status, "field_technician_id": e.technician_id}
    if actual is not None and row[actual] is None:
        values[actual] = at
    await queries.update_work_order(conn, e.work_order_id, **values)
    if actual is None:
        return  # en route: the visit is frozen from now on, and nothing else changes

    def change(d: Decision) -> None:
        visit = d.plan.visit_of(e.work_order_id)
        if visit is not None:
            d.repair(visit.technician_id, f"{e.work_order_id} started at {at:%H:%M} UTC")

    await _decide(delivery, at, change)


async def on_travel_started(e: TravelStarted, delivery: Delivery[DispatchSettings]) -> None:
    """En route: the visit is frozen."""
    await _field_progress(e, delivery, "en_route", e.device_time, actual=None)


async def on_technician_arrived(e: TechnicianArrived, delivery: Delivery[DispatchSettings]) -> None:
    """On site: a late arrival pushes the rest of the technician's day."""
    await _field_progress(e, delivery, "on_site", e.device_time, actual="arrived_at")


async def on_job_started(e: JobStarted, delivery: Delivery[DispatchSettings]) -> None:
    """Work began: the job's expected end follows from its real start."""
    await _field_progress(e, delivery, "in_progress", e.device_time, actual="started_at")


async def _finished(
    delivery: Delivery[DispatchSettings],
    e: JobCompleted | JobIncomplete,
    at: datetime,
    outcome: str,
    summary: str,
) -> None:
    conn = delivery.conn
    row = await queries.work_order(conn, e.work_order_id)
    site_id = e.site_id or (row["site_id"] if row else None)
    if site_id is not None:
        await queries.insert_site_visit(
            conn,
            event_id=delivery.event_id,
            site_id=site_id,
            work_order_id=e.work_order_id,
            job_type=e.job_type,
            technician_id=e.technician_id,
            completed_at=at,
            outcome=outcome,
            summary=summary[:2000],
        )
    if row is None or row["status"] != "open":
        return
    await queries.update_work_order(
        conn, e.work_order_id, status="done", field_status=outcome, ended_at=at
    )
    details = WorkOrderDetails.model_validate(row["details"])
    loc = details.site.location
    await queries.set_location(conn, e.technician_id, loc.lat, loc.lon, at)
    decision = await load(conn, delivery.context, at)
    # The finished job is no longer open: it left the plan when loading. Its technician
    # is now at the site; the rest of the day is re-timed from there.
    if e.technician_id in decision.plan.crews:
        decision.repair(e.technician_id, f"{e.work_order_id} finished at {at:%H:%M} UTC")
    decision.retry_unplaced()
    await record(conn, decision, Cause(delivery.event_id, at))


async def on_job_completed(e: JobCompleted, delivery: Delivery[DispatchSettings]) -> None:
    """Done: site history grows, the technician is free from the site."""
    summary = e.work_done if not e.findings else f"{e.work_done} — {e.findings}"
    await _finished(delivery, e, e.completed_at, "completed", summary)


async def on_job_incomplete(e: JobIncomplete, delivery: Delivery[DispatchSettings]) -> None:
    """The visit ended unfinished; intake decides on a follow-up work order."""
    summary = f"{e.reason.value}: {e.detail}" if e.detail else e.reason.value
    await _finished(delivery, e, e.ended_at, "incomplete", summary)


async def _hold(conn: AsyncConnection, e: JobPutOnHold | JobResumed, status: str) -> bool:
    """Record the field status; answers whether the job is open (else nothing changed)."""
    row = await queries.work_order(conn, e.work_order_id)
    if row is None or row["status"] != "open":
        return False
    await queries.update_work_order(
        conn, e.work_order_id, field_status=status, field_technician_id=e.technician_id
    )
    return True


async def on_job_put_on_hold(e: JobPutOnHold, delivery: Delivery[DispatchSettings]) -> None:
    """Paused on site: the technician is still busy there.

    The board shows why the day slips; the visit's expected end keeps moving with the
    clock until it ends.
    """
    conn = delivery.conn
    await _hold(conn, e, "on_hold")


async def on_job_resumed(e: JobResumed, delivery: Delivery[DispatchSettings]) -> None:
    """Work goes on after a hold: the technician's next visits are re-timed from it.

    The job ends no earlier than now plus what is left.
    """
    conn = delivery.conn
    if not await _hold(conn, e, "in_progress"):
        return
    at = e.device_time

    def change(d: Decision) -> None:
        if e.technician_id in d.plan.crews:
            d.repair(e.technician_id, f"{e.work_order_id} resumed at {at:%H:%M} UTC")

    await _decide(delivery, at, change)


async def on_job_reopened(e: JobReopened, delivery: Delivery[DispatchSettings]) -> None:
    """The office reopened a finished job on the same visit: the rest of the day is re-timed.

    Fieldupdates puts it back in progress with the same technician: it is open again and
    occupies that technician from now for its estimated duration, so the rest of their day
    is re-timed; when the job is completed again, the technician is free as after any
    completion.
    """
    conn = delivery.conn
    row = await queries.work_order(conn, e.work_order_id)
    if row is None or row["status"] != "done":
        return
    at = e.reopened_at
    await queries.update_work_order(
        conn,
        e.work_order_id,
        status="open",
        field_status="in_progress",
        field_technician_id=e.technician_id,
        started_at=at,
        ended_at=None,
    )
    decision = await load(conn, delivery.context, at)
    crews = decision.plan.crews
    if decision.plan.visit_of(e.work_order_id) is None and e.technician_id in crews:
        # Its visit was taken off the plan before it finished (a dispatcher moved it):
        # put it back with the technician who is working it, under way from now.
        job = decision.plan.jobs[e.work_order_id]
        start = to_minutes(at)
        decision.plan.put(
            Visit(e.work_order_id, e.technician_id, start, start + job.duration, True, False)
        )
    if e.technician_id in crews:
        decision.repair(e.technician_id, f"{e.work_order_id} reopened at {at:%H:%M} UTC")
    await record(conn, decision, Cause(delivery.event_id, at))


async def on_technician_located(e: TechnicianLocated, delivery: Delivery[DispatchSettings]) -> None:
    """Keep the live location for the board and the next plan."""
    conn = delivery.conn
    await queries.set_location(conn, e.technician_id, e.location.lat, e.location.lon, e.device_time)


async def on_note_added(e: NoteAdded, delivery: Delivery[DispatchSettings]) -> None:
    """Notes to carry forward go into the next job pack at the site."""
    conn = delivery.conn
    if not e.carry_forward:
        return
    site_id = e.site_id
    if site_id is None:
        row = await queries.work_order(conn, e.work_order_id)
        site_id = row["site_id"] if row else None
    if site_id is None:
        return
    await queries.insert_site_note(
        conn,
        note_id=e.note_id,
        site_id=site_id,
        work_order_id=e.work_order_id,
        text=e.text,
        written_by=e.technician_id,
        written_at=e.device_time,
    )


# What the service registers (by the event class in each signature).
REACTIONS = (
    on_work_order_released,
    on_work_order_amended,
    on_work_order_cancelled,
    on_travel_started,
    on_technician_arrived,
    on_job_started,
    on_job_completed,
    on_job_incomplete,
    on_job_put_on_hold,
    on_job_resumed,
    on_job_reopened,
    on_technician_located,
    on_note_added,
)


__all__ = ["PRIORITY_RANK"]
