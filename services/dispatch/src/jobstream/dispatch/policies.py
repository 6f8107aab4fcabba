"""Dispatch's reactions to intake and field events: each one re-plans what it changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from jobstream.dispatch.domain.plan import PRIORITY_RANK, Visit, to_minutes
from jobstream.dispatch.scheduling import Cause, Decision, job_spec, load, record
from jobstream.messaging.envelope import Envelope

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


def _urgent(settings: DispatchSettings, details: WorkOrderDetails) -> bool:
    return details.priority.value in settings.urgent_priorities


async def _decide(
    conn: AsyncConnection,
    settings: DispatchSettings,
    envelope: Envelope,
    at: datetime,
    change: Callable[[Decision], None],
) -> None:
    decision = await load(conn, settings, at)
    change(decision)
    await record(conn, decision, Cause(envelope.id, at))


def handlers(settings: DispatchSettings) -> dict[str, Handler]:
    """The scheduler's handlers by event type, bound to ``settings``."""

    async def on_work_order_released(conn: AsyncConnection, envelope: Envelope) -> None:
        """Place the new job; an urgent one may displace lower priorities."""
        e = envelope.data
        assert isinstance(e, WorkOrderReleased)
        fresh = await queries.insert_work_order(
            conn,
            work_order_id=e.work_order_id,
            details=e.details.model_dump(mode="json"),
            priority=e.details.priority.value,
            site_id=e.details.site.site_id,
            status="open",
            correlation_id=envelope.correlation_id,
            released_at=e.released_at,
        )
        if not fresh:
            return  # released twice under different event ids: the first one planned it

        def change(d: Decision) -> None:
            d.place(e.work_order_id, bump=_urgent(settings, e.details))

        await _decide(conn, settings, envelope, e.released_at, change)

    async def on_work_order_amended(conn: AsyncConnection, envelope: Envelope) -> None:
        """Keep the visit if it still fits, else move it; re-send the pack either way."""
        e = envelope.data
        assert isinstance(e, WorkOrderAmended)
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
        became_urgent = _urgent(settings, e.details) and (
            row["priority"] not in settings.urgent_priorities
        )

        def change(d: Decision) -> None:
            job = job_spec(wo, e.details, to_minutes(e.amended_at))
            d.plan.jobs[wo] = job
            current = d.plan.visit_of(wo)
            if current is None:
                if not d.held(wo):
                    d.place(wo, bump=_urgent(settings, e.details))
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

        await _decide(conn, settings, envelope, e.amended_at, change)

    async def on_work_order_cancelled(conn: AsyncConnection, envelope: Envelope) -> None:
        """Free the slot; waiting jobs may take it."""
        e = envelope.data
        assert isinstance(e, WorkOrderCancelled)
        row = await queries.work_order(conn, e.work_order_id)
        if row is None or row["status"] != "open":
            return

        decision = await load(conn, settings, e.cancelled_at)
        decision.unplace(e.work_order_id, f"work order cancelled: {e.reason}")
        decision.cancelled.add(e.work_order_id)
        decision.retry_unplaced()
        await record(conn, decision, Cause(envelope.id, e.cancelled_at))
        await queries.update_work_order(conn, e.work_order_id, status="cancelled")

    async def _field_progress(
        conn: AsyncConnection, envelope: Envelope, status: str, at: datetime, *, actual: str | None
    ) -> None:
        e = envelope.data
        assert isinstance(e, TravelStarted | TechnicianArrived | JobStarted)
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

        await _decide(conn, settings, envelope, at, change)

    async def on_travel_started(conn: AsyncConnection, envelope: Envelope) -> None:
        """En route: the visit is frozen."""
        e = envelope.data
        assert isinstance(e, TravelStarted)
        await _field_progress(conn, envelope, "en_route", e.device_time, actual=None)

    async def on_technician_arrived(conn: AsyncConnection, envelope: Envelope) -> None:
        """On site: a late arrival pushes the rest of the technician's day."""
        e = envelope.data
        assert isinstance(e, TechnicianArrived)
        await _field_progress(conn, envelope, "on_site", e.device_time, actual="arrived_at")

    async def on_job_started(conn: AsyncConnection, envelope: Envelope) -> None:
        """Work began: the job's expected end follows from its real start."""
        e = envelope.data
        assert isinstance(e, JobStarted)
        await _field_progress(conn, envelope, "in_progress", e.device_time, actual="started_at")

    async def _finished(
        conn: AsyncConnection,
        envelope: Envelope,
        e: JobCompleted | JobIncomplete,
        at: datetime,
        outcome: str,
        summary: str,
    ) -> None:
        row = await queries.work_order(conn, e.work_order_id)
        site_id = e.site_id or (row["site_id"] if row else None)
        if site_id is not None:
            await queries.insert_site_visit(
                conn,
                event_id=envelope.id,
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
        decision = await load(conn, settings, at)
        # The finished job is no longer open: it left the plan when loading. Its technician
        # is now at the site; the rest of the day is re-timed from there.
        if e.technician_id in decision.plan.crews:
            decision.repair(e.technician_id, f"{e.work_order_id} finished at {at:%H:%M} UTC")
        decision.retry_unplaced()
        await record(conn, decision, Cause(envelope.id, at))

    async def on_job_completed(conn: AsyncConnection, envelope: Envelope) -> None:
        """Done: site history grows, the technician is free from the site."""
        e = envelope.data
        assert isinstance(e, JobCompleted)
        summary = e.work_done if not e.findings else f"{e.work_done} — {e.findings}"
        await _finished(conn, envelope, e, e.completed_at, "completed", summary)

    async def on_job_incomplete(conn: AsyncConnection, envelope: Envelope) -> None:
        """The visit ended unfinished; intake decides on a follow-up work order."""
        e = envelope.data
        assert isinstance(e, JobIncomplete)
        summary = f"{e.reason.value}: {e.detail}" if e.detail else e.reason.value
        await _finished(conn, envelope, e, e.ended_at, "incomplete", summary)

    async def _hold(conn: AsyncConnection, e: JobPutOnHold | JobResumed, status: str) -> bool:
        """Record the field status; answers whether the job is open (else nothing changed)."""
        row = await queries.work_order(conn, e.work_order_id)
        if row is None or row["status"] != "open":
            return False
        await queries.update_work_order(
            conn, e.work_order_id, field_status=status, field_technician_id=e.technician_id
        )
        return True

    async def on_job_put_on_hold(conn: AsyncConnection, envelope: Envelope) -> None:
        """Paused on site: the technician is still busy there (the board shows why the day
        slips; the visit's expected end keeps moving with the clock until it ends)."""
        e = envelope.data
        assert isinstance(e, JobPutOnHold)
        await _hold(conn, e, "on_hold")

    async def on_job_resumed(conn: AsyncConnection, envelope: Envelope) -> None:
        """Work goes on after a hold: the job ends no earlier than now plus what is left,
        so the technician's next visits are re-timed from it."""
        e = envelope.data
        assert isinstance(e, JobResumed)
        if not await _hold(conn, e, "in_progress"):
            return
        at = e.device_time

        def change(d: Decision) -> None:
            if e.technician_id in d.plan.crews:
                d.repair(e.technician_id, f"{e.work_order_id} resumed at {at:%H:%M} UTC")

        await _decide(conn, settings, envelope, at, change)

    async def on_job_reopened(conn: AsyncConnection, envelope: Envelope) -> None:
        """The office reopened a finished job on the same visit (fieldupdates puts it back in
        progress with the same technician): it is open again and occupies that technician
        from now for its estimated duration, so the rest of their day is re-timed; when the
        job is completed again, the technician is free as after any completion."""
        e = envelope.data
        assert isinstance(e, JobReopened)
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
        decision = await load(conn, settings, at)
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
        await record(conn, decision, Cause(envelope.id, at))

    async def on_technician_located(conn: AsyncConnection, envelope: Envelope) -> None:
        """Keep the live location for the board and the next plan."""
        e = envelope.data
        assert isinstance(e, TechnicianLocated)
        await queries.set_location(
            conn, e.technician_id, e.location.lat, e.location.lon, e.device_time
        )

    async def on_note_added(conn: AsyncConnection, envelope: Envelope) -> None:
        """Notes to carry forward go into the next job pack at the site."""
        e = envelope.data
        assert isinstance(e, NoteAdded)
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

    return {
        "WorkOrderReleased": on_work_order_released,
        "WorkOrderAmended": on_work_order_amended,
        "WorkOrderCancelled": on_work_order_cancelled,
        "TravelStarted": on_travel_started,
        "TechnicianArrived": on_technician_arrived,
        "JobStarted": on_job_started,
        "JobCompleted": on_job_completed,
        "JobIncomplete": on_job_incomplete,
        "JobPutOnHold": on_job_put_on_hold,
        "JobResumed": on_job_resumed,
        "JobReopened": on_job_reopened,
        "TechnicianLocated": on_technician_located,
        "NoteAdded": on_note_added,
    }


__all__ = ["PRIORITY_RANK", "handlers"]
