"""Pure decisions: given the job and an action, the events it produces or why it cannot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobstream.contracts.base import Event
from jobstream.contracts.common import AnswerType, ChecklistTemplate
from jobstream.contracts.field import (
    AttachmentAdded,
    AttachmentKind,
    ChecklistItemAnswered,
    DeviceActionRejected,
    EtaRevised,
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
from jobstream.errors import ConflictError
from jobstream.fieldupdates.domain.commands import (
    APPLICABLE_LATER,
    RECORD_COMMANDS,
    STATUS_COMMANDS,
    WORK_RECORDS,
    Acknowledge,
    AddAttachment,
    AddNote,
    AnswerChecklistItem,
    ApplyRejected,
    Arrive,
    CaptureSignature,
    Command,
    Complete,
    CorrectMaterial,
    CouldNotComplete,
    DeviceAction,
    DiscardRejected,
    LogTime,
    PutOnHold,
    Reopen,
    RequestParts,
    Resume,
    ReviseEta,
    StartTravel,
    StartWork,
    UseMaterial,
)
from jobstream.fieldupdates.domain.state import CLOSED, Assignment, FieldJob, FieldStatus
from jobstream.ids import derived_id

S = FieldStatus
# The status flow: which action moves the current visit from which status to which.
TRANSITIONS: dict[FieldStatus, dict[str, FieldStatus]] = {
    S.DISPATCHED: {"acknowledge": S.ACKNOWLEDGED},
    S.ACKNOWLEDGED: {"start_travel": S.EN_ROUTE},
    S.EN_ROUTE: {
        "arrive": S.ON_SITE,
        "revise_eta": S.EN_ROUTE,
        "could_not_complete": S.INCOMPLETE,
    },
    S.ON_SITE: {"start_work": S.IN_PROGRESS, "could_not_complete": S.INCOMPLETE},
    S.IN_PROGRESS: {
        "put_on_hold": S.ON_HOLD,
        "complete": S.COMPLETED,
        "could_not_complete": S.INCOMPLETE,
    },
    S.ON_HOLD: {"resume": S.IN_PROGRESS, "could_not_complete": S.INCOMPLETE},
    S.COMPLETED: {},
    S.INCOMPLETE: {},
}
RECORD_ACTIONS = tuple(c.action_type for c in RECORD_COMMANDS)
MAX_ENTRY_MINUTES = 24 * 60


class ActionRefusedError(ConflictError):
    """The action does not fit the job as it stands; the fact ``allowed`` names what would.

    A device action refused so is kept and reported in its sync answer (a 200), or answered
    409 by the device's own endpoint; an office command refused so answers 409.
    """

    @property
    def allowed(self) -> tuple[str, ...]:
        """The actions the job allows now (none named when the flow is not the reason)."""
        return tuple(self.facts.get("allowed", ()))


class JobTakenAwayError(ActionRefusedError):
    """The office changed the job under the device: cancelled, reassigned or unscheduled."""


def allowed_actions(job: FieldJob, assignment: Assignment) -> tuple[str, ...]:
    """What the assigned technician may do now."""
    if assignment.cancelled or assignment.technician_id is None:
        return ()
    moves = tuple(TRANSITIONS[job.status])
    return moves if job.status in CLOSED else (*moves, *RECORD_ACTIONS)


def _stamp(action: DeviceAction) -> dict[str, Any]:
    return {
        "work_order_id": action.work_order_id,
        "technician_id": action.technician_id,
        "action_id": action.action_id,
        "device_time": action.device_time,
        "received_at": action.received_at,
    }


def check_not_in_conflict(assignment: Assignment, technician_id: str) -> None:
    """Raise JobTakenAwayError when the office has taken the job away from this technician."""
    if assignment.cancelled:
        raise JobTakenAwayError("the work order was cancelled")
    if assignment.technician_id != technician_id:
        if assignment.technician_id is None:
            raise JobTakenAwayError(
                f"the job was withdrawn ({assignment.withdrawn_reason or 'unscheduled'})"
            )
        raise JobTakenAwayError("the job was reassigned to another technician")


def decide(job: FieldJob, assignment: Assignment, action: DeviceAction) -> list[Event]:
    """The events of one device action, or ActionRefusedError (JobTakenAwayError: a conflict)."""
    check_not_in_conflict(assignment, action.technician_id)
    cmd = action.command
    allowed = allowed_actions(job, assignment)
    late_attachment = isinstance(cmd, AddAttachment) and _taken_before_closing(job, action)
    if cmd.action_type not in allowed and not late_attachment:
        raise ActionRefusedError(
            f"cannot {cmd.action_type} while the job is {job.status.value}; "
            f"allowed now: {', '.join(allowed) or 'nothing (the visit is closed)'}",
            allowed=allowed,
        )
    return _events_of(job, assignment, action)


def kept_action(job: FieldJob, action_id: str) -> DeviceActionRejected:
    """The kept device action the office may still resolve; refused if none, or if done."""
    kept = next((r for r in job.rejected if r.action_id == action_id), None)
    if kept is None:
        raise ActionRefusedError(f"no kept device action {action_id} on this job")
    if action_id in job.resolved:
        raise ActionRefusedError(f"device action {action_id} was already resolved")
    return kept


def decide_apply_rejected(
    job: FieldJob, assignment: Assignment, cmd: ApplyRejected, command: Command
) -> list[Event]:
    """RejectedActionApplied and the record the kept action makes, for its technician.

    The record is attributed to the technician who did the work; only records of work
    (APPLICABLE_LATER) qualify. ``command`` is the kept payload, parsed by the handler
    (I/O-free here).
    """
    kept = kept_action(job, cmd.action_id)
    if kept.action_type not in APPLICABLE_LATER:
        raise ActionRefusedError(
            f"a {kept.action_type.replace('_', ' ')} from a device cannot be applied later "
            "(the job's status belongs to whoever holds it now); discard it with a reason"
        )
    action = DeviceAction(
        action_id=kept.action_id,
        technician_id=kept.technician_id,
        work_order_id=job.work_order_id,
        device_time=kept.device_time,
        device_seq=0,
        received_at=cmd.at,
        command=command,
    )
    return [
        RejectedActionApplied(
            work_order_id=job.work_order_id,
            technician_id=kept.technician_id,
            action_id=kept.action_id,
            action_type=kept.action_type,
            note=cmd.note,
            applied_by=cmd.by,
            applied_at=cmd.at,
        ),
        *_events_of(job, assignment, action),
    ]


def decide_discard_rejected(job: FieldJob, cmd: DiscardRejected) -> list[Event]:
    """RejectedActionDiscarded, with the office's reason."""
    kept = kept_action(job, cmd.action_id)
    return [
        RejectedActionDiscarded(
            work_order_id=job.work_order_id,
            technician_id=kept.technician_id,
            action_id=kept.action_id,
            action_type=kept.action_type,
            reason=cmd.reason,
            discarded_by=cmd.by,
            discarded_at=cmd.at,
        )
    ]


def _events_of(job: FieldJob, assignment: Assignment, action: DeviceAction) -> list[Event]:
    """What an action records, once it is allowed."""
    if isinstance(action.command, STATUS_COMMANDS):
        return _status_change(job, assignment, action)
    if isinstance(action.command, WORK_RECORDS):
        return _work_record(assignment, action)
    return _visit_record(job, assignment, action)


# The status changes that record only who did it, and when.
PLAIN_MOVES: dict[type[Command], type[Event]] = {
    Acknowledge: JobAcknowledged,
    Arrive: TechnicianArrived,
    StartWork: JobStarted,
    Resume: JobResumed,
}


def _status_change(job: FieldJob, assignment: Assignment, action: DeviceAction) -> list[Event]:
    """The events of a move in the status flow."""
    cmd = action.command
    stamp = _stamp(action)
    match cmd:
        case Acknowledge() | Arrive() | StartWork() | Resume():
            return [PLAIN_MOVES[type(cmd)](**stamp)]
        case StartTravel():
            return [TravelStarted(**stamp, eta=cmd.eta)]
        case ReviseEta():
            return [EtaRevised(**stamp, eta=cmd.eta)]
        case PutOnHold():
            return [JobPutOnHold(**stamp, reason=cmd.reason, detail=cmd.detail)]
        case Complete():
            return _decide_complete(job, assignment, action, cmd)
        case CouldNotComplete():
            return [_incomplete(job, assignment, action, cmd)]
    raise ActionRefusedError(f"unknown action {cmd.action_type}")  # pragma: no cover - exhaustive


def _work_record(assignment: Assignment, action: DeviceAction) -> list[Event]:
    """The event of a record of work done (one the office may also apply later)."""
    cmd = action.command
    stamp = _stamp(action)
    match cmd:
        case LogTime():
            return [
                TimeLogged(
                    **stamp,
                    entry_id=cmd.entry_id or action.action_id,
                    kind=cmd.kind,
                    started_at=cmd.started_at,
                    ended_at=cmd.ended_at,
                    minutes=cmd.duration,
                )
            ]
        case UseMaterial():
            return [
                MaterialUsed(
                    **stamp,
                    entry_id=cmd.entry_id or action.action_id,
                    sku=cmd.sku,
                    description=cmd.description,
                    quantity_milli=cmd.quantity_milli,
                    unit=cmd.unit,
                    source=cmd.source,
                    unit_cost_minor=cmd.unit_cost_minor,
                    currency=cmd.currency,
                )
            ]
        case RequestParts():
            return [
                PartsRequested(
                    **stamp,
                    request_id=cmd.request_id or action.action_id,
                    parts=cmd.parts,
                    note=cmd.note,
                )
            ]
        case AddNote():
            site = assignment.pack.details.site.site_id if assignment.pack else None
            return [
                NoteAdded(
                    **stamp,
                    note_id=cmd.note_id or action.action_id,
                    text=cmd.text,
                    carry_forward=cmd.carry_forward,
                    site_id=site,
                )
            ]
    raise ActionRefusedError(f"unknown action {cmd.action_type}")  # pragma: no cover - exhaustive


def _visit_record(job: FieldJob, assignment: Assignment, action: DeviceAction) -> list[Event]:
    """The event of a record of the visit: a job sheet answer, a signature, an attachment."""
    cmd = action.command
    stamp = _stamp(action)
    match cmd:
        case AnswerChecklistItem():
            return [_answer(job, assignment, action, cmd)]
        case CaptureSignature():
            if job.attachment(cmd.attachment_id) is None:
                raise ActionRefusedError(
                    f"attachment {cmd.attachment_id} has not been uploaded to this job"
                )
            return [
                SignatureCaptured(
                    **stamp,
                    attachment_id=cmd.attachment_id,
                    signer_name=cmd.signer_name,
                    signed_at=cmd.signed_at or action.device_time,
                )
            ]
        case AddAttachment():
            if job.attachment(cmd.attachment_id) is not None:
                return []  # the same file uploaded again: already recorded
            return [
                AttachmentAdded(
                    **stamp,
                    attachment_id=cmd.attachment_id,
                    kind=cmd.kind,
                    content_type=cmd.content_type,
                    size_bytes=cmd.size_bytes,
                    sha256=cmd.sha256,
                    caption=cmd.caption,
                )
            ]
    raise ActionRefusedError(f"unknown action {cmd.action_type}")  # pragma: no cover - exhaustive


def _taken_before_closing(job: FieldJob, action: DeviceAction) -> bool:
    """A photo taken during the visit but uploaded after it closed is still the visit's."""
    closed = job.completion or job.incomplete
    return job.status in CLOSED and closed is not None and action.device_time <= closed.device_time


def missing_required_items(job: FieldJob, checklist: ChecklistTemplate | None) -> list[str]:
    """Required job sheet items without an answer, as "item_id (label)"."""
    if checklist is None:
        return []
    answered = job.latest_answers()
    return [
        f"{item.item_id} ({item.label})"
        for item in checklist.items
        if item.required and item.item_id not in answered
    ]


def _job_facts(assignment: Assignment) -> dict[str, Any]:
    if assignment.pack is None:
        raise ActionRefusedError("the job pack has not arrived yet")
    details = assignment.pack.details
    return {
        "customer_id": details.customer_id,
        "site_id": details.site.site_id,
        "asset_id": details.asset.asset_id if details.asset else None,
        "job_type": details.job_type,
        "priority": details.priority,
    }


def _decide_complete(
    job: FieldJob, assignment: Assignment, action: DeviceAction, cmd: Complete
) -> list[Event]:
    facts = _job_facts(assignment)
    assert assignment.pack is not None
    missing = missing_required_items(job, assignment.pack.details.checklist)
    if missing:
        raise ActionRefusedError(f"required checklist items are not answered: {', '.join(missing)}")
    logged = job.labour_minutes
    stated = logged if cmd.labour_minutes is None else cmd.labour_minutes
    if stated < logged:
        raise ActionRefusedError(
            f"labour_minutes {stated} is less than the {logged} minutes of labour logged; "
            "omit labour_minutes or correct the time entries"
        )
    # Billing prices labour from TimeLogged: labour stated beyond the entries is logged
    # first, so that the completion's total always equals the sum of the entries.
    balance = stated - logged
    entries: list[Event] = []
    index = 0
    while balance > 0:
        chunk = min(balance, MAX_ENTRY_MINUTES)
        entries.append(
            TimeLogged(
                **_stamp(action),
                entry_id=derived_id(action.action_id, "stated-labour", str(index)),
                kind=TimeKind.LABOUR,
                minutes=chunk,
            )
        )
        balance -= chunk
        index += 1
    completed = JobCompleted(
        **_stamp(action),
        **facts,
        completed_at=action.device_time,
        labour_minutes=stated,
        travel_minutes=min(job.travel_minutes, 7 * 24 * 60),
        findings=cmd.findings,
        work_done=cmd.work_done,
        first_time_fix=cmd.first_time_fix,
        follow_up_needed=cmd.follow_up_needed,
        follow_up_reason=cmd.follow_up_reason,
        next_service_due=cmd.next_service_due,
    )
    return [*entries, completed]


def _incomplete(
    job: FieldJob, assignment: Assignment, action: DeviceAction, cmd: CouldNotComplete
) -> JobIncomplete:
    return JobIncomplete(
        **_stamp(action),
        **_job_facts(assignment),
        ended_at=action.device_time,
        reason=cmd.reason,
        detail=cmd.detail,
        labour_minutes=min(job.labour_minutes, 7 * 24 * 60),
        travel_minutes=min(job.travel_minutes, 7 * 24 * 60),
        follow_up_needed=cmd.follow_up_needed,
    )


def _answer(
    job: FieldJob, assignment: Assignment, action: DeviceAction, cmd: AnswerChecklistItem
) -> ChecklistItemAnswered:
    checklist = assignment.pack.details.checklist if assignment.pack else None
    if checklist is None:
        raise ActionRefusedError("this job has no checklist")
    item = next((i for i in checklist.items if i.item_id == cmd.item_id), None)
    if item is None:
        known = ", ".join(i.item_id for i in checklist.items)
        raise ActionRefusedError(
            f"checklist {checklist.template_id} has no item {cmd.item_id}; items: {known}"
        )
    answer = cmd.answer
    if answer.answer_type is not item.answer_type:
        raise ActionRefusedError(
            f"item {item.item_id} takes a {item.answer_type.value} answer, "
            f"not {answer.answer_type.value}"
        )
    if answer.answer_type is AnswerType.NUMBER and item.unit:
        if answer.unit is None:
            answer = answer.model_copy(update={"unit": item.unit})
        elif answer.unit != item.unit:
            raise ActionRefusedError(
                f"item {item.item_id} is measured in {item.unit}, not {answer.unit}"
            )
    if answer.answer_type is AnswerType.PHOTO:
        photo = job.attachment(answer.attachment_id or "")
        if photo is None or photo.kind is not AttachmentKind.PHOTO:
            raise ActionRefusedError(
                f"photo {answer.attachment_id} has not been uploaded to this job"
            )
    return ChecklistItemAnswered(
        **_stamp(action), template_id=checklist.template_id, item_id=item.item_id, answer=answer
    )


def reject(
    *,
    work_order_id: str,
    technician_id: str,
    action_id: str,
    action_type: str,
    device_time: datetime,
    received_at: datetime,
    reason: str,
    payload: dict[str, Any],
) -> DeviceActionRejected:
    """Keep a refused or conflicting action, whole, for the office."""
    return DeviceActionRejected(
        work_order_id=work_order_id,
        technician_id=technician_id,
        action_id=action_id,
        action_type=action_type[:60],
        reason=reason[:500],
        payload=payload,
        device_time=device_time,
        received_at=received_at,
    )


def decide_reopen(job: FieldJob, assignment: Assignment, cmd: Reopen) -> list[Event]:
    """JobReopened, for a completed job that is still assigned."""
    if job.status is not FieldStatus.COMPLETED:
        raise ActionRefusedError(
            f"only a completed job can be reopened; this one is {job.status.value}"
        )
    if assignment.cancelled or assignment.technician_id is None:
        raise ActionRefusedError("the job is cancelled or has no technician")
    return [
        JobReopened(
            work_order_id=job.work_order_id,
            technician_id=assignment.technician_id,
            reason=cmd.reason,
            reopened_by=cmd.by,
            reopened_at=cmd.at,
        )
    ]


def decide_correct_material(
    job: FieldJob, assignment: Assignment, cmd: CorrectMaterial
) -> list[Event]:
    """MaterialUsageCorrected, for an existing entry whose quantity changes."""
    entry = job.material(cmd.entry_id)
    if entry is None:
        known = ", ".join(m.entry_id for m in job.materials) or "none"
        raise ActionRefusedError(f"no material entry {cmd.entry_id} on this job; entries: {known}")
    if job.material_quantity(cmd.entry_id) == cmd.quantity_milli:
        raise ActionRefusedError(f"entry {cmd.entry_id} already has quantity {cmd.quantity_milli}")
    return [
        MaterialUsageCorrected(
            work_order_id=job.work_order_id,
            technician_id=entry.technician_id,
            entry_id=cmd.entry_id,
            quantity_milli=cmd.quantity_milli,
            reason=cmd.reason,
            corrected_by=cmd.by,
            corrected_at=cmd.at,
        )
    ]
