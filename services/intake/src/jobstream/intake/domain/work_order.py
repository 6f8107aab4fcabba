"""The work order aggregate: state, evolve and the deciders of every command (pure; no I/O).

One request is one work order for its whole life. Its intake lifecycle:

    logged ──► awaiting_approval ──► approved ──► released ──► (amended …)
       │               │                 │            │
       │               └──► rejected     │            │
       ├──────────────► released ◄───────┘            │
       ├──► duplicate (linked to another request)     │
       └──► cancelled ◄───────────────────────────────┘ (from any open state)

Approval is needed when the job type says so or the estimated value reaches the limit;
an approval lapses if the job type or a higher value is drafted afterwards. Once the field
reports the job completed, its customer may rate the visit, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from jobstream.contracts.base import Event
from jobstream.contracts.common import (
    AssetInfo,
    AttachmentRef,
    Channel,
    Contact,
    Priority,
    SiteAddress,
    WorkOrderDetails,
)
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
from jobstream.intake.domain.job_types import JOB_TYPES, JobType, job_type
from jobstream.intake.domain.sla import SlaTerms, deadlines


class Status(StrEnum):
    """Where a work order is in intake's part of the lifecycle."""

    NEW = "new"
    LOGGED = "logged"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RELEASED = "released"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"


OPEN_BEFORE_RELEASE = frozenset({Status.LOGGED, Status.AWAITING_APPROVAL, Status.APPROVED})
CLOSED = frozenset({Status.REJECTED, Status.CANCELLED, Status.DUPLICATE})


class DomainError(ValueError):
    """A command with bad input; ``field`` names the culprit when there is one (→ 422)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Exception):
    """A command the work order's current state does not allow (→ 409)."""


@dataclass(frozen=True)
class ApprovalBasis:
    """What an approval was given for: a later draft beyond it needs approval again."""

    job_type: str | None
    estimated_value_minor: int | None


@dataclass(frozen=True)
class WorkOrder:
    """Folded state of one work order stream."""

    id: str
    status: Status = Status.NEW
    logged: RequestLogged | None = None
    priority: Priority | None = None
    respond_by: datetime | None = None
    resolve_by: datetime | None = None
    job_type: str | None = None
    # The office's draft before release; what was released (and amended) after.
    details: WorkOrderDetails | None = None
    pending_approval: ApprovalBasis | None = None
    approved: ApprovalBasis | None = None
    possible_duplicate_of: str | None = None
    duplicate_of: str | None = None
    # The customer's rating of the visit: there is at most one per work order.
    rated: VisitRated | None = None


def evolve(state: WorkOrder, event: Event) -> WorkOrder:
    """Apply one event."""
    match event:
        case RequestLogged():
            return replace(
                state,
                status=Status.LOGGED,
                logged=event,
                priority=event.priority,
                respond_by=event.respond_by,
                resolve_by=event.resolve_by,
                job_type=event.job_type,
            )
        case PossibleDuplicateFlagged():
            return replace(state, possible_duplicate_of=event.possible_duplicate_of)
        case DuplicateLinked():
            return replace(state, status=Status.DUPLICATE, duplicate_of=event.duplicate_of)
        case RequestPriorityChanged():
            details = state.details
            if details is not None:
                details = details.model_copy(
                    update={
                        "priority": event.priority,
                        "respond_by": event.respond_by,
                        "resolve_by": event.resolve_by,
                    }
                )
            return replace(
                state,
                priority=event.priority,
                respond_by=event.respond_by,
                resolve_by=event.resolve_by,
                details=details,
            )
        case WorkOrderDetailsUpdated():
            new = replace(state, details=event.details, job_type=event.details.job_type)
            if state.status is Status.APPROVED and _beyond(state.approved, event.details):
                return replace(new, status=Status.LOGGED, approved=None)
            return new
        case ApprovalRequested():
            basis = ApprovalBasis(state.job_type, event.estimated_value_minor)
            return replace(state, status=Status.AWAITING_APPROVAL, pending_approval=basis)
        case WorkOrderApproved():
            return replace(
                state,
                status=Status.APPROVED,
                approved=state.pending_approval,
                pending_approval=None,
            )
        case WorkOrderRejected():
            return replace(state, status=Status.REJECTED, pending_approval=None)
        case WorkOrderReleased():
            return replace(
                state,
                status=Status.RELEASED,
                details=event.details,
                job_type=event.details.job_type,
            )
        case WorkOrderAmended():
            return replace(
                state,
                details=event.details,
                job_type=event.details.job_type,
                priority=event.details.priority,
                respond_by=event.details.respond_by,
                resolve_by=event.details.resolve_by,
            )
        case WorkOrderCancelled():
            return replace(state, status=Status.CANCELLED)
        case VisitRated():
            return replace(state, rated=event)
        case _:
            return state


def _beyond(basis: ApprovalBasis | None, details: WorkOrderDetails) -> bool:
    if basis is None:
        return True
    if details.job_type != basis.job_type:
        return True
    return (details.estimated_value_minor or 0) > (basis.estimated_value_minor or 0)


# -- logging ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRequest:
    """Command: log a request from any channel. Records were resolved by the handler."""

    work_order_id: str
    customer_id: str
    customer_name: str | None
    site: SiteAddress
    channel: Channel
    description: str
    priority: Priority
    logged_by: str
    logged_at: datetime
    terms: SlaTerms
    asset: AssetInfo | None = None
    contact: Contact | None = None
    contract_id: str | None = None
    job_type: str | None = None
    external_reference: str | None = None
    follow_up_of: str | None = None
    maintenance_plan_id: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class DuplicateCandidate:
    """The open request the duplicate check found, with its similarity (0..1)."""

    work_order_id: str
    similarity: float


class AlreadyExists(InvalidTransition):
    """The work order id is taken (a retried or concurrent planned or derived request)."""


def decide_log_request(
    state: WorkOrder, cmd: LogRequest, duplicate: DuplicateCandidate | None = None
) -> list[Event]:
    """RequestLogged with SLA deadlines, and PossibleDuplicateFlagged when one was found."""
    if state.status is not Status.NEW:
        raise AlreadyExists(f"work order {cmd.work_order_id} already exists")
    if cmd.job_type is not None:
        _template(cmd.job_type)
    respond_by, resolve_by = deadlines(
        cmd.terms, cmd.priority, cmd.logged_at, ZoneInfo(cmd.site.time_zone)
    )
    events: list[Event] = [
        RequestLogged(
            work_order_id=cmd.work_order_id,
            customer_id=cmd.customer_id,
            customer_name=cmd.customer_name,
            site=cmd.site,
            asset=cmd.asset,
            contact=cmd.contact,
            channel=cmd.channel,
            description=cmd.description,
            priority=cmd.priority,
            logged_at=cmd.logged_at,
            logged_by=cmd.logged_by,
            respond_by=respond_by,
            resolve_by=resolve_by,
            contract_id=cmd.contract_id,
            external_reference=cmd.external_reference,
            follow_up_of=cmd.follow_up_of,
            maintenance_plan_id=cmd.maintenance_plan_id,
            job_type=cmd.job_type,
            attachments=cmd.attachments,
        )
    ]
    if duplicate is not None and duplicate.work_order_id != cmd.work_order_id:
        events.append(
            PossibleDuplicateFlagged(
                work_order_id=cmd.work_order_id,
                possible_duplicate_of=duplicate.work_order_id,
                similarity=duplicate.similarity,
                flagged_at=cmd.logged_at,
            )
        )
    return events


def _template(code: str) -> JobType:
    found = job_type(code)
    if found is None:
        raise DomainError(
            f"unknown job type {code!r}; known: {', '.join(sorted(JOB_TYPES))}", field="job_type"
        )
    return found


# -- job details ------------------------------------------------------------------------


def current_details(state: WorkOrder, site_access: str = "") -> WorkOrderDetails | None:
    """The details as they stand: the draft or released ones, else the job type's template
    applied to the logged request; None while no job type is known."""
    if state.details is not None:
        return state.details
    if state.logged is None or state.job_type is None:
        return None
    template = _template(state.job_type)
    logged = state.logged
    assert state.priority and state.respond_by and state.resolve_by
    return WorkOrderDetails(
        customer_id=logged.customer_id,
        customer_name=logged.customer_name,
        site=logged.site,
        contact=logged.contact,
        asset=logged.asset,
        job_type=template.code,
        description=logged.description,
        priority=state.priority,
        required_skills=template.required_skills,
        required_certifications=template.required_certifications,
        estimated_duration_minutes=template.estimated_duration_minutes,
        parts=template.parts,
        safety_requirements=template.safety_requirements,
        access_instructions=site_access,
        checklist=template.checklist,
        respond_by=state.respond_by,
        resolve_by=state.resolve_by,
        contract_id=logged.contract_id,
        follow_up_of=logged.follow_up_of,
        maintenance_plan_id=logged.maintenance_plan_id,
        attachments=logged.attachments,
    )


# Fields of WorkOrderDetails the office may change; the rest follow from the request.
EDITABLE_FIELDS = frozenset(
    {
        "job_type",
        "description",
        "required_skills",
        "required_certifications",
        "estimated_duration_minutes",
        "parts",
        "safety_requirements",
        "access_instructions",
        "checklist",
        "time_window",
        "contact",
        "asset",
        "estimated_value_minor",
    }
)
_FROM_TEMPLATE = (
    "required_skills",
    "required_certifications",
    "estimated_duration_minutes",
    "parts",
    "safety_requirements",
    "checklist",
)


@dataclass(frozen=True)
class ChangeDetails:
    """Command: set some job details (before release: the draft; after: an amendment)."""

    changes: Mapping[str, Any]
    changed_by: str
    changed_at: datetime
    reason: str = ""
    site_access: str = ""
    # The field reported the job finished: there is nothing left to amend.
    closed_by_field: bool = False


def decide_change_details(state: WorkOrder, cmd: ChangeDetails) -> list[Event]:
    """WorkOrderDetailsUpdated before release, WorkOrderAmended after; nothing if unchanged."""
    unknown = set(cmd.changes) - EDITABLE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(f"{field} cannot be changed on a work order", field=field)
    if state.status is Status.AWAITING_APPROVAL:
        raise InvalidTransition(
            f"work order {state.id} is awaiting approval; approve or reject it before editing"
        )
    _require_open(state, "change the details of", cmd.closed_by_field)
    base = current_details(state, cmd.site_access)
    changes = dict(cmd.changes)
    new_type = changes.get("job_type")
    if base is None and new_type is None:
        raise DomainError("choose a job type first: the details come from it", field="job_type")
    if new_type is not None and (base is None or new_type != base.job_type):
        template = _template(new_type)
        for name in _FROM_TEMPLATE:
            changes.setdefault(name, getattr(template, name))
        base = base or current_details(replace(state, job_type=new_type), cmd.site_access)
    assert base is not None
    details = _validated(base, changes)
    template = _template(details.job_type)
    missing = set(template.required_certifications) - set(details.required_certifications)
    if missing:
        raise DomainError(
            f"a {template.code} job always requires {', '.join(sorted(missing))}",
            field="required_certifications",
        )
    changed_names = {
        name
        for name in WorkOrderDetails.model_fields
        if getattr(details, name) != getattr(base, name)
    }
    if state.job_type is None:
        # A request logged without a job type (an email) gets one: the details equal the
        # template's draft computed above, but the choice itself must be recorded.
        changed_names.add("job_type")
    changed = tuple(sorted(changed_names))
    if not changed:
        return []
    if state.status is Status.RELEASED:
        return [
            WorkOrderAmended(
                work_order_id=state.id,
                details=details,
                changed_fields=changed,
                reason=cmd.reason,
                amended_by=cmd.changed_by,
                amended_at=cmd.changed_at,
            )
        ]
    return [
        WorkOrderDetailsUpdated(
            work_order_id=state.id,
            details=details,
            changed_fields=changed,
            updated_by=cmd.changed_by,
            updated_at=cmd.changed_at,
        )
    ]


def _validated(base: WorkOrderDetails, changes: Mapping[str, Any]) -> WorkOrderDetails:
    data = base.model_dump()
    data.update({k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in changes.items()})
    try:
        return WorkOrderDetails.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DomainError(
            f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}",
            field=str(first["loc"][0]) if first["loc"] else None,
        ) from exc


def _require_open(state: WorkOrder, action: str, closed_by_field: bool = False) -> None:
    if state.status is Status.NEW:
        raise InvalidTransition(f"work order {state.id} does not exist")
    if state.status in CLOSED:
        raise InvalidTransition(f"cannot {action} work order {state.id}: it is {state.status}")
    if closed_by_field:
        raise InvalidTransition(
            f"cannot {action} work order {state.id}: the field already reported it finished"
        )


# -- priority ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePriority:
    """Command: set a new priority; the SLA deadlines are recomputed from logging time."""

    priority: Priority
    reason: str
    changed_by: str
    changed_at: datetime
    terms: SlaTerms
    closed_by_field: bool = False


def decide_change_priority(state: WorkOrder, cmd: ChangePriority) -> list[Event]:
    """RequestPriorityChanged, plus WorkOrderAmended when dispatch already has the job."""
    _require_open(state, "change the priority of", cmd.closed_by_field)
    assert state.logged is not None and state.priority is not None
    if cmd.priority == state.priority:
        raise DomainError(f"the priority is already {cmd.priority}", field="priority")
    # The clock started when the request was logged: a raised priority can make a
    # deadline fall due at once, which is what the office needs to see.
    respond_by, resolve_by = deadlines(
        cmd.terms, cmd.priority, state.logged.logged_at, ZoneInfo(state.logged.site.time_zone)
    )
    changed = RequestPriorityChanged(
        work_order_id=state.id,
        priority=cmd.priority,
        previous_priority=state.priority,
        respond_by=respond_by,
        resolve_by=resolve_by,
        reason=cmd.reason,
        changed_by=cmd.changed_by,
        changed_at=cmd.changed_at,
    )
    if state.status is not Status.RELEASED:
        return [changed]
    assert state.details is not None
    details = state.details.model_copy(
        update={"priority": cmd.priority, "respond_by": respond_by, "resolve_by": resolve_by}
    )
    amended = WorkOrderAmended(
        work_order_id=state.id,
        details=details,
        changed_fields=("priority", "resolve_by", "respond_by"),
        reason=cmd.reason,
        amended_by=cmd.changed_by,
        amended_at=cmd.changed_at,
    )
    return [changed, amended]


# -- approval ---------------------------------------------------------------------------


def approval_reasons(details: WorkOrderDetails, value_limit_minor: int) -> list[str]:
    """Why these details need approval before release (empty: they do not)."""
    reasons = []
    template = _template(details.job_type)
    if template.needs_approval:
        reasons.append(f"job type {template.code} needs approval")
    value = details.estimated_value_minor
    if value is not None and value >= value_limit_minor:
        reasons.append(
            f"estimated value {value / 100:.2f} reaches the approval limit of "
            f"{value_limit_minor / 100:.2f}"
        )
    return reasons


@dataclass(frozen=True)
class RequestApproval:
    """Command: ask for approval (needed by the rules, or wanted by the office: ``note``)."""

    requested_by: str
    requested_at: datetime
    value_limit_minor: int
    note: str = ""
    site_access: str = ""


def decide_request_approval(state: WorkOrder, cmd: RequestApproval) -> list[Event]:
    """ApprovalRequested with the reasons."""
    if state.status not in (Status.LOGGED,):
        if state.status is Status.APPROVED:
            raise InvalidTransition(f"work order {state.id} is already approved")
        if state.status is Status.AWAITING_APPROVAL:
            raise InvalidTransition(f"work order {state.id} is already awaiting approval")
        _require_open(state, "request approval for")
        raise InvalidTransition(
            f"work order {state.id} is {state.status}: approval is for before release"
        )
    details = current_details(state, cmd.site_access)
    if details is None:
        raise DomainError("choose a job type before asking for approval", field="job_type")
    reasons = approval_reasons(details, cmd.value_limit_minor)
    if cmd.note:
        reasons.append(cmd.note)
    if not reasons:
        raise DomainError(
            "this work order needs no approval; give a note to ask for one anyway", field="note"
        )
    return [
        ApprovalRequested(
            work_order_id=state.id,
            reason="; ".join(reasons)[:500],
            estimated_value_minor=details.estimated_value_minor,
            requested_by=cmd.requested_by,
            requested_at=cmd.requested_at,
        )
    ]


@dataclass(frozen=True)
class DecideApproval:
    """Command: approve (``approve``) or reject with a reason."""

    approve: bool
    decided_by: str
    decided_at: datetime
    note: str = ""


def decide_approval(state: WorkOrder, cmd: DecideApproval) -> list[Event]:
    """WorkOrderApproved or WorkOrderRejected."""
    if state.status is not Status.AWAITING_APPROVAL:
        raise InvalidTransition(
            f"work order {state.id} is {state.status}, not awaiting approval; nothing to decide"
        )
    if cmd.approve:
        return [
            WorkOrderApproved(
                work_order_id=state.id,
                approved_by=cmd.decided_by,
                approved_at=cmd.decided_at,
                note=cmd.note,
            )
        ]
    if not cmd.note.strip():
        raise DomainError("a rejection needs a reason", field="reason")
    return [
        WorkOrderRejected(
            work_order_id=state.id,
            rejected_by=cmd.decided_by,
            rejected_at=cmd.decided_at,
            reason=cmd.note[:500],
        )
    ]


# -- release and cancel -----------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """Command: release for scheduling with the whole job details."""

    released_by: str
    released_at: datetime
    value_limit_minor: int
    site_access: str = ""


def decide_release(state: WorkOrder, cmd: Release) -> list[Event]:
    """WorkOrderReleased, once the details are complete and any approval is given."""
    if state.status is Status.RELEASED:
        raise InvalidTransition(f"work order {state.id} is already released")
    if state.status is Status.AWAITING_APPROVAL:
        raise InvalidTransition(
            f"work order {state.id} is awaiting approval; it cannot be released yet"
        )
    _require_open(state, "release")
    details = current_details(state, cmd.site_access)
    if details is None:
        raise DomainError("choose a job type before release", field="job_type")
    reasons = approval_reasons(details, cmd.value_limit_minor)
    if reasons and state.status is not Status.APPROVED:
        raise InvalidTransition(
            f"work order {state.id} needs approval before release ({'; '.join(reasons)}); "
            "request approval first"
        )
    return [
        WorkOrderReleased(
            work_order_id=state.id,
            details=details,
            released_by=cmd.released_by,
            released_at=cmd.released_at,
        )
    ]


@dataclass(frozen=True)
class Cancel:
    """Command: cancel, before or after release."""

    reason: str
    cancelled_by: str
    cancelled_at: datetime
    closed_by_field: bool = False


def decide_cancel(state: WorkOrder, cmd: Cancel) -> list[Event]:
    """WorkOrderCancelled."""
    _require_open(state, "cancel", cmd.closed_by_field)
    return [
        WorkOrderCancelled(
            work_order_id=state.id,
            reason=cmd.reason,
            cancelled_by=cmd.cancelled_by,
            cancelled_at=cmd.cancelled_at,
        )
    ]


# -- duplicates -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkDuplicate:
    """Command: the office confirms this request duplicates ``duplicate_of``."""

    duplicate_of: str
    linked_by: str
    linked_at: datetime


def decide_link_duplicate(state: WorkOrder, cmd: LinkDuplicate) -> list[Event]:
    """DuplicateLinked: this request closes, pointing at the one that carries the work."""
    if cmd.duplicate_of == state.id:
        raise DomainError("a request cannot duplicate itself", field="duplicate_of")
    if state.status is Status.RELEASED:
        raise InvalidTransition(
            f"work order {state.id} is already released; cancel it instead of linking"
        )
    _require_open(state, "link")
    return [
        DuplicateLinked(
            work_order_id=state.id,
            duplicate_of=cmd.duplicate_of,
            linked_by=cmd.linked_by,
            linked_at=cmd.linked_at,
        )
    ]


# -- the customer's rating --------------------------------------------------------------

SCORES = range(1, 6)
MAX_COMMENT = 2000


@dataclass(frozen=True)
class RateVisit:
    """Command: the customer rates the visit, 1 (poor) to 5 (excellent), with a comment."""

    score: int
    comment: str
    rated_by: str
    rated_at: datetime
    # From the read model: the field reported the job completed (neither incomplete nor
    # reopened since), and the technician who completed it.
    completed_by_field: bool = False
    technician_id: str | None = None


def decide_rate_visit(state: WorkOrder, cmd: RateVisit) -> list[Event]:
    """VisitRated, once per work order, for a job the field completed."""
    if cmd.score not in SCORES:
        raise DomainError(
            f"score must be from 1 (poor) to 5 (excellent), not {cmd.score}", field="score"
        )
    if len(cmd.comment) > MAX_COMMENT:
        raise DomainError(f"a comment is at most {MAX_COMMENT} characters", field="comment")
    if state.status is Status.NEW or state.logged is None:
        raise InvalidTransition(f"work order {state.id} does not exist")
    if state.status in CLOSED:
        raise InvalidTransition(
            f"work order {state.id} is {state.status}: there is no visit to rate"
        )
    if state.rated is not None:
        raise InvalidTransition(
            f"work order {state.id} is already rated ({state.rated.score} of 5); "
            "a visit is rated once"
        )
    if not cmd.completed_by_field:
        raise InvalidTransition(
            f"work order {state.id} is not completed yet; a visit can be rated once the job is done"
        )
    return [
        VisitRated(
            work_order_id=state.id,
            customer_id=state.logged.customer_id,
            technician_id=cmd.technician_id,
            score=cmd.score,
            comment=cmd.comment,
            rated_by=cmd.rated_by,
            rated_at=cmd.rated_at,
        )
    ]
