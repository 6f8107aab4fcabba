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
        quantity: int = entry.quantity_milli
        for correction in self.corrections:
            if correction.entry_id == entry_id:
                quantity = correction.quantity_milli
        return quantity


def _moved(job: FieldJob, status: FieldStatus, at: datetime, **changes: Any) -> FieldJob:
    return replace(
        job, status=status, status_history=(*job.status_history, (status, at)), **changes
    )


# The records a job keeps in order, by the field of FieldJob that keeps each.
RECORDED_IN: dict[type[Event], str] = {
    TimeLogged: "time_entries",
    MaterialUsed: "materials",
    MaterialUsageCorrected: "corrections",
    PartsRequested: "parts_requests",
    NoteAdded: "notes",
    AttachmentAdded: "attachments",
    ChecklistItemAnswered: "answers",
    SignatureCaptured: "signatures",
    DeviceActionRejected: "rejected",
}


def evolve(job: FieldJob, event: Event) -> FieldJob:
    """The job after ``event``."""
    kept_in = RECORDED_IN.get(type(event))
    if kept_in is not None:
        appended: dict[str, Any] = {kept_in: (*getattr(job, kept_in), event)}
        return replace(job, **appended)
    match event:
        case EtaRevised():
            return replace(job, eta=event.eta)
        case JobReopened():
            # Back to work on the same visit: the technician corrects or finishes, then
            # completes again. A return visit comes from dispatch as a new assignment.
            return _moved(
                job,
                FieldStatus.IN_PROGRESS,
                event.reopened_at,
                reopened=(*job.reopened, event),
            )
        case RejectedActionApplied() | RejectedActionDiscarded():
            return replace(job, resolved=job.resolved | {event.action_id})
    return _moved_on_site(job, event)


def _moved_on_site(job: FieldJob, event: Event) -> FieldJob:
    """The job after a status change from the device (any other event changes nothing)."""
    changes: dict[str, Any] = {}
    match event:
        case JobAcknowledged():
            status = FieldStatus.ACKNOWLEDGED
        case TravelStarted():
            status, changes = FieldStatus.EN_ROUTE, {"eta": event.eta}
        case TechnicianArrived():
            status = FieldStatus.ON_SITE
        case JobStarted() | JobResumed():
            status, changes = FieldStatus.IN_PROGRESS, {"hold_reason": None}
        case JobPutOnHold():
            status, changes = FieldStatus.ON_HOLD, {"hold_reason": event.reason}
        case JobCompleted():
            status, changes = FieldStatus.COMPLETED, {"completion": event}
        case JobIncomplete():
            status, changes = FieldStatus.INCOMPLETE, {"incomplete": event}
        case _:
            return job
    return _moved(job, status, event.device_time, **changes)


def start_visit(job: FieldJob) -> FieldJob:
    """The job at a new assignment (another technician, or a return visit).

    The status starts over; everything recorded so far stays on the job.
    """
    return replace(job, status=FieldStatus.DISPATCHED, eta=None, hold_reason=None)


@dataclass(frozen=True)
class VisitFold:
    """A job folded with the current visit taken to begin after ``visit_started_version``.

    What a snapshot keeps: the job, and the visit start it assumed (the jobs row holds the
    real one, and a reassignment can move it to a version the snapshot already covers).
    """

    job: FieldJob
    visit_started_version: int


def step(folded: VisitFold, version: int, event: Event) -> VisitFold:
    """The fold after the stream's event at ``version``."""
    job = evolve(folded.job, event)
    if version == folded.visit_started_version:
        job = start_visit(job)
    return VisitFold(job, folded.visit_started_version)


def fold(
    work_order_id: str, events: Iterable[tuple[int, Event]], visit_started_version: int = 0
) -> FieldJob:
    """Fold ``(stream_version, event)`` pairs into the job.

    The current visit began after ``visit_started_version``.
    """
    folded = VisitFold(FieldJob(work_order_id), visit_started_version)
    for version, event in events:
        folded = step(folded, version, event)
    return folded.job


def resume(snapshot: VisitFold, version: int, visit_started_version: int) -> VisitFold | None:
    """The fold of the stream up to ``version`` under the visit start now in force.

    ``snapshot`` is the fold up to ``version`` under the visit start it assumed; None when
    only a full fold can tell. Usable as it is when both visit starts fall on the same side
    of the events it covers (or on the same one of them). When the new visit begins at
    ``version`` itself (a reassignment after the snapshot's last event), starting a visit
    on the snapshot is the full fold: a visit start resets only the status, ETA and hold
    reason, each of which an event sets without reading it, so whatever visit start the
    snapshot assumed, the reset leaves the same job (the property tests hold it to this).
    """

    def within(start: int) -> int:
        return start if 0 < start <= version else 0

    if within(snapshot.visit_started_version) == within(visit_started_version):
        return VisitFold(snapshot.job, visit_started_version)
    if visit_started_version == version:
        return VisitFold(start_visit(snapshot.job), visit_started_version)
    return None
