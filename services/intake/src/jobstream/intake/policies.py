"""Intake's reactions to the field and to dispatch.

The appointment (window, ETA, en route), arrival and completion in the work order list, the
next planned service, and follow-up requests.

Each runs inside the consumer's batch transaction, which also records the event id, so a
redelivered event changes nothing; the ids of what a reaction creates are derived from the
causing event (ADR 0005), so even a replay into an empty database recreates the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.common import Channel, Priority
from jobstream.contracts.dispatch import JobRescheduled, JobScheduled, JobUnscheduled
from jobstream.contracts.field import (
    EtaRevised,
    JobCompleted,
    JobIncomplete,
    JobReopened,
    TechnicianArrived,
    TravelStarted,
)
from jobstream.eventstore.store import EventStore
from jobstream.ids import derived_id
from jobstream.intake import handlers
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.domain.commands import LogRequest
from jobstream.intake.domain.job_types import job_type
from jobstream.intake.domain.maintenance import follow_up_work_order_id, next_service_plan_id
from jobstream.intake.domain.work_order import AlreadyExistsError
from jobstream.messaging.reactions import Delivery

log = structlog.get_logger(__name__)

FOLLOW_UP_LOGGED_BY = "intake.policies"


@dataclass(frozen=True)
class IntakeContext:
    """What intake's reactions are bound to: its event store and its settings.

    Follow-up requests are logged through the same handler as any request.
    """

    store: EventStore
    settings: IntakeSettings


# -- the appointment, from dispatch's decisions ------------------------------------


async def on_job_scheduled(event: JobScheduled, delivery: Delivery[IntakeContext]) -> None:
    """The planned window, ETA and technician."""
    conn = delivery.conn
    row = await _known(conn, event.work_order_id, event.event_type)
    if _superseded(row, event.scheduled_at, event.event_type):
        return
    await queries.update_work_order(conn, event.work_order_id, _planned(event, event.scheduled_at))


async def on_job_rescheduled(event: JobRescheduled, delivery: Delivery[IntakeContext]) -> None:
    """Another window or technician; a new technician is not on the way yet."""
    conn = delivery.conn
    row = await _known(conn, event.work_order_id, event.event_type)
    if _superseded(row, event.rescheduled_at, event.event_type):
        return
    values = _planned(event, event.rescheduled_at)
    if event.technician_id != event.previous_technician_id:
        values["en_route_at"] = None
    await queries.update_work_order(conn, event.work_order_id, values)


async def on_job_unscheduled(event: JobUnscheduled, delivery: Delivery[IntakeContext]) -> None:
    """No appointment any more: back to waiting for one."""
    conn = delivery.conn
    row = await _known(conn, event.work_order_id, event.event_type)
    if _superseded(row, event.unscheduled_at, event.event_type):
        return
    values: dict = {
        "appointment_start": None,
        "appointment_end": None,
        "eta": None,
        "en_route_at": None,
        "appointment_decided_at": event.unscheduled_at,
    }
    # The plan named the technician, not the field (nobody arrived or finished): it no
    # longer does.
    if (
        row["technician_id"] == event.technician_id
        and row["responded_at"] is None
        and row["completed_at"] is None
    ):
        values["technician_id"] = None
    await queries.update_work_order(conn, event.work_order_id, values)


async def on_travel_started(event: TravelStarted, delivery: Delivery[IntakeContext]) -> None:
    """En route: the device's time, and its ETA when it gave one (else the plan's)."""
    conn = delivery.conn
    row = await _known(conn, event.work_order_id, event.event_type)
    # Once dispatch decided, only the technician its plan holds is on the way to this
    # job; before any decision was seen (topics are not ordered), the device is believed.
    if row["appointment_decided_at"] is not None and (
        row["appointment_start"] is None or row["technician_id"] != event.technician_id
    ):
        log.info(
            "travel_ignored",
            work_order_id=event.work_order_id,
            technician_id=event.technician_id,
            planned_technician_id=row["technician_id"],
        )
        return
    values: dict = {"en_route_at": event.device_time}
    if event.eta is not None:
        values["eta"] = event.eta
    await queries.update_work_order(conn, event.work_order_id, values)


async def on_eta_revised(event: EtaRevised, delivery: Delivery[IntakeContext]) -> None:
    """On the way, a new ETA from the device (the portal shows it)."""
    conn = delivery.conn
    row = await _known(conn, event.work_order_id, event.event_type)
    if row["technician_id"] not in (None, event.technician_id) or row["responded_at"]:
        return  # another technician's journey, or already there
    await queries.update_work_order(
        conn,
        event.work_order_id,
        {"eta": event.eta, "en_route_at": row["en_route_at"] or event.device_time},
    )


def _planned(event: JobScheduled | JobRescheduled, decided_at: datetime) -> dict:
    return {
        "appointment_start": event.window_start,
        "appointment_end": event.window_end,
        "eta": event.eta,
        "technician_id": event.technician_id,
        "appointment_decided_at": decided_at,
    }


def _superseded(row: dict, decided_at: datetime, event_type: str) -> bool:
    """Whether a later decision is already shown.

    Dispatch and field are not ordered against each other, and a late cause may reach us
    after its successor.
    """
    last = row["appointment_decided_at"]
    if last is None or decided_at >= last:
        return False
    log.info(
        "appointment_decision_ignored",
        work_order_id=row["work_order_id"],
        event_type=event_type,
        decided_at=decided_at.isoformat(),
        shown=last.isoformat(),
    )
    return True


async def _known(conn: AsyncConnection, work_order_id: str, event_type: str) -> dict:
    row = await queries.get_work_order(conn, work_order_id)
    if row is None:
        # As for completions: every work order starts here, so an unknown one is a
        # broken upstream worth a dead letter, not a silent skip.
        raise LookupError(f"{event_type} for unknown work order {work_order_id}")
    return row


# -- the field ----------------------------------------------------------------------


async def on_technician_arrived(
    event: TechnicianArrived, delivery: Delivery[IntakeContext]
) -> None:
    """The respond-by SLA is met (or missed) at the first arrival."""
    conn = delivery.conn
    row = await queries.get_work_order(conn, event.work_order_id)
    if row is None or row["responded_at"] is not None:
        return
    await queries.update_work_order(
        conn,
        event.work_order_id,
        {"responded_at": event.device_time, "technician_id": event.technician_id},
    )


async def on_job_completed(event: JobCompleted, delivery: Delivery[IntakeContext]) -> None:
    """Completed in the list; then the next planned service and any follow-up."""
    conn = delivery.conn
    row = await _finish(conn, event.work_order_id, "completed", event.completed_at, event)
    if event.next_service_due is not None:
        await _next_service(delivery, event, row, event.next_service_due)
    if event.follow_up_needed:
        reason = event.follow_up_reason or event.findings or "follow-up needed"
        await _follow_up(delivery, row, reason, event.completed_at)


async def on_job_incomplete(event: JobIncomplete, delivery: Delivery[IntakeContext]) -> None:
    """The visit ended without finishing: a follow-up request carries the rest."""
    conn = delivery.conn
    row = await _finish(conn, event.work_order_id, "incomplete", event.ended_at, event)
    if event.follow_up_needed:
        reason = f"{event.reason.value.replace('_', ' ')}: {event.detail}".rstrip(": ")
        await _follow_up(delivery, row, reason, event.ended_at)


async def on_job_reopened(event: JobReopened, delivery: Delivery[IntakeContext]) -> None:
    """The office reopened a finished job: it is open again."""
    conn = delivery.conn
    await queries.update_work_order(
        conn,
        event.work_order_id,
        {"status": "released", "completed_at": None, "outcome": "reopened"},
    )


async def _finish(
    conn: AsyncConnection,
    work_order_id: str,
    outcome: str,
    at: datetime,
    event: JobCompleted | JobIncomplete,
) -> dict:
    row = await _known(conn, work_order_id, event.event_type)
    values: dict = {
        "completed_at": at,
        "outcome": outcome,
        "technician_id": event.technician_id,
        "follow_up_needed": event.follow_up_needed,
    }
    if isinstance(event, JobCompleted):
        values["first_time_fix"] = event.first_time_fix
    if row["status"] == "released":
        values["status"] = outcome
    await queries.update_work_order(conn, work_order_id, values)
    return row | values


async def _next_service(
    delivery: Delivery[IntakeContext],
    event: JobCompleted,
    row: dict,
    due: date,
) -> None:
    conn = delivery.conn
    source = f"job:{event.work_order_id}"
    if row["maintenance_plan_id"]:
        await queries.set_next_service(
            conn, row["maintenance_plan_id"], due, source, delivery.envelope.time
        )
        return
    kind = row["job_type"] or event.job_type
    template = job_type(kind)
    plan_id = next_service_plan_id(row["site_id"], row["asset_id"], kind)
    await queries.upsert_next_service_plan(
        conn,
        {
            "plan_id": plan_id,
            "customer_id": row["customer_id"],
            "site_id": row["site_id"],
            "asset_id": row["asset_id"],
            "job_type": kind,
            "description": f"Next {template.description if template else kind}",
            "priority": Priority.P4.value,
            "starts_on": due,
            "every_months": None,
            "rule": None,
            "lead_days": delivery.context.settings.maintenance_lead_days,
            "next_due_on": due,
            "active": True,
            "next_due_source": source,
            "created_at": delivery.envelope.time,
            "updated_at": delivery.envelope.time,
        },
    )
    log.info("next_service_set", plan_id=plan_id, due=due.isoformat())


async def _follow_up(
    delivery: Delivery[IntakeContext], row: dict, reason: str, at: datetime
) -> None:
    original = row["work_order_id"]
    work_order_id = follow_up_work_order_id(delivery.event_id)
    request = LogRequest(
        work_order_id=work_order_id,
        customer_id=row["customer_id"],
        site_id=row["site_id"],
        asset_id=row["asset_id"],
        # The contract in force now, chosen as for any new request.
        channel=Channel.FOLLOW_UP,
        description=f"Follow-up of {original}: {reason}"[:5000],
        priority=Priority(row["priority"]),
        job_type=row["job_type"],
        logged_by=FOLLOW_UP_LOGGED_BY,
        logged_at=at,
        follow_up_of=original,
    )
    try:
        await handlers.log_request(
            request,
            handlers.Context(delivery.conn, delivery.context.store, delivery.context.settings),
            cause=handlers.Cause(
                correlation_id=delivery.correlation_id,
                causation_id=delivery.event_id,
                event_ids=[derived_id(delivery.event_id, "follow-up", str(n)) for n in range(2)],
            ),
        )
    except AlreadyExistsError:
        return
    log.info("follow_up_logged", work_order_id=work_order_id, follow_up_of=original)


# What the service registers (by the event class in each signature).
REACTIONS = (
    on_job_scheduled,
    on_job_rescheduled,
    on_job_unscheduled,
    on_travel_started,
    on_eta_revised,
    on_technician_arrived,
    on_job_completed,
    on_job_incomplete,
    on_job_reopened,
)
