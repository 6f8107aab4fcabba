"""The field job as folded from fieldupdates' own events, and who it is assigned to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from jobstream.contracts.base import Event
from jobstream.contracts.dispatch import JobPack
from jobstream.contracts.field import (
    AttachmentAdded,
    ChecklistItemAnswered,
    DeviceActionRejected,
    EtaRevised,
    HoldReason,
    JobAcknowledged,
    JobCompleted,
    JobIncomplete,
    JobPutOnHold,
    JobReopened,
    JobResumed,
    JobStarted,
    MaterialUsageCorrected,
    MaterialUsed,
    NoteAdded,
    PartsRequested,
    RejectedActionApplied,
    RejectedActionDiscarded,
    SignatureCaptured,
    TechnicianArrived,
    TimeKind,
    TimeLogged,
    TravelStarted,
)


class FieldStatus(StrEnum):
    """Where the current visit stands."""

    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


CLOSED = frozenset({FieldStatus.COMPLETED, FieldStatus.INCOMPLETE})


@dataclass(frozen=True)
class Assignment:
    """What the office side (dispatch, intake) has told fieldupdates about a job."""

    work_order_id: str
    technician_id: str | None
    pack: JobPack | None
    cancelled: bool = False
    # Why the job was taken off its last technician (reassigned, unscheduled), if it was.
    withdrawn_reason: str | None = None
    former_technicians: frozenset[str] = frozenset()

    def may_see(self, technician_id: str) -> bool:
        """Only the assigned technician sees the job (a former one has lost access)."""
        return self.technician_id == technician_id

    def ever_had(self, technician_id: str) -> bool:
        """The technician holds, or once held, the job (their late actions are conflicts)."""
        return technician_id == self.technician_id or technician_id in self.former_technicians


@dataclass(frozen=True)
class FieldJob:
    """Everything recorded in the field for one work order, across all its visits."""

    work_order_id: str
    status: FieldStatus = FieldStatus.DISPATCHED
    eta: datetime | None = None
    hold_reason: HoldReason | None = None
    time_entries: tuple[TimeLogged, ...] = ()
    materials: tuple[MaterialUsed, ...] = ()
    corrections: tuple[MaterialUsageCorrected, ...] = ()
    parts_requests: tuple[PartsRequested, ...] = ()
    notes: tuple[NoteAdded, ...] = ()
    attachments: tuple[AttachmentAdded, ...] = ()
    answers: tuple[ChecklistItemAnswered, ...] = ()
    signatures: tuple[SignatureCaptured, ...] = ()
    completion: JobCompleted | None = None
    incomplete: JobIncomplete | None = None
    reopened: tuple[JobReopened, ...] = ()
    rejected: tuple[DeviceActionRejected, ...] = ()
    # Kept actions the office has applied or discarded, by action id.
    resolved: frozenset[str] = frozenset()
    status_history: tuple[tuple[FieldStatus, datetime], ...] = field(default=())

    def minutes(self, kind: TimeKind) -> int:
        """Total minutes logged of ``kind`` over the whole job."""
        return sum(e.minutes for e in self.time_entries if e.kind is kind)

    @property
    def labour_minutes(self) -> int:
        """Labour logged: what JobCompleted must report and billing prices."""
        return self.minutes(TimeKind.LABOUR)

    @property
    def travel_minutes(self) -> int:
        """Travel logged."""
        return self.minutes(TimeKind.TRAVEL)

    def latest_answers(self) -> dict[str, ChecklistItemAnswered]:
        """The answer in force for each item (a later answer replaces an earlier one)."""
        return {a.item_id: a for a in self.answers}

    def attachment(self, attachment_id: str) -> AttachmentAdded | None:
        """An attachment of this job, by id."""
        return next((a for a in self.attachments if a.attachment_id == attachment_id), None)

    def material(self, entry_id: str) -> MaterialUsed | None:
        """A material entry, by id."""
        return next((m for m in self.materials if m.entry_id == entry_id), None)

    def material_quantity(self, entry_id: str) -> int | None:
        """The quantity in force for a material entry (the latest correction wins)."""
        entry = self.material(entry_id)
        if entry is None:
            return None
        quantity = entry.quantity_milli
        for correction in self.corrections:
            if correction.entry_id == entry_id:
                quantity = correction.quantity_milli
        return quantity


def _moved(job: FieldJob, status: FieldStatus, at: datetime, **changes: Any) -> FieldJob:
    return replace(
        job, status=status, status_history=(*job.status_history, (status, at)), **changes
    )


def evolve(job: FieldJob, event: Event) -> FieldJob:
    """The job after ``event``."""
    match event:
        case JobAcknowledged():
            return _moved(job, FieldStatus.ACKNOWLEDGED, event.device_time)
        case TravelStarted():
            return _moved(job, FieldStatus.EN_ROUTE, event.device_time, eta=event.eta)
        case EtaRevised():
            return replace(job, eta=event.eta)
        case TechnicianArrived():
            return _moved(job, FieldStatus.ON_SITE, event.device_time)
        case JobStarted() | JobResumed():
            return _moved(job, FieldStatus.IN_PROGRESS, event.device_time, hold_reason=None)
        case JobPutOnHold():
            return _moved(job, FieldStatus.ON_HOLD, event.device_time, hold_reason=event.reason)
        case JobCompleted():
            return _moved(job, FieldStatus.COMPLETED, event.device_time, completion=event)
        case JobIncomplete():
            return _moved(job, FieldStatus.INCOMPLETE, event.device_time, incomplete=event)
        case JobReopened():
            # Back to work on the same visit: the technician corrects or finishes, then
            # completes again. A return visit comes from dispatch as a new assignment.
            return _moved(
                job,
                FieldStatus.IN_PROGRESS,
                event.reopened_at,
                reopened=(*job.reopened, event),
            )
        case TimeLogged():
            return replace(job, time_entries=(*job.time_entries, event))
        case MaterialUsed():
            return replace(job, materials=(*job.materials, event))
        case MaterialUsageCorrected():
            return replace(job, corrections=(*job.corrections, event))
        case PartsRequested():
            return replace(job, parts_requests=(*job.parts_requests, event))
        case NoteAdded():
            return replace(job, notes=(*job.notes, event))
        case AttachmentAdded():
            return replace(job, attachments=(*job.attachments, event))
        case ChecklistItemAnswered():
            return replace(job, answers=(*job.answers, event))
        case SignatureCaptured():
            return replace(job, signatures=(*job.signatures, event))
        case DeviceActionRejected():
            return replace(job, rejected=(*job.rejected, event))
        case RejectedActionApplied() | RejectedActionDiscarded():
            return replace(job, resolved=job.resolved | {event.action_id})
        case _:
            return job


def start_visit(job: FieldJob) -> FieldJob:
    """A new assignment (another technician, or a return visit): the status starts over,
    everything recorded so far stays on the job."""
    return replace(job, status=FieldStatus.DISPATCHED, eta=None, hold_reason=None)


def fold(
    work_order_id: str, events: Iterable[tuple[int, Event]], visit_started_version: int = 0
) -> FieldJob:
    """Fold ``(stream_version, event)`` pairs; the current visit began after
    ``visit_started_version``."""
    job = FieldJob(work_order_id)
    for version, event in events:
        job = evolve(job, event)
        if version == visit_started_version:
            job = start_visit(job)
    return job
