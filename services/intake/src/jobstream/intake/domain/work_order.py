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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from jobstream.contracts.base import Event
from jobstream.contracts.common import (
    AssetInfo,
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
from jobstream.errors import ConflictError, InvalidInputError
from jobstream.intake.domain.commands import (
    Cancel,
    ChangeDetails,
    ChangePriority,
    DecideApproval,
    LinkDuplicate,
    LogRequest,
    RateVisit,
    Release,
    RequestApproval,
)
from jobstream.intake.domain.job_types import JOB_TYPES, JobType, job_type
from jobstream.intake.domain.sla import STANDARD_TERMS, SlaTerms, deadlines

# Work orders estimated at or above this value (minor units) need approval before release;
# the operator's setting (INTAKE_APPROVAL_VALUE_LIMIT_MINOR) starts from it.
APPROVAL_VALUE_LIMIT_MINOR = 100_000


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


class DomainError(InvalidInputError):
    """A command with bad input; ``field`` names the culprit when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        """Refuse the input ``field`` (None: the command as a whole) with ``message``."""
        super().__init__(message, field=field)


class InvalidTransitionError(ConflictError):
    """A command the work order's current state does not allow."""


@dataclass(frozen=True)
class Facts:
    """What a decision needs beyond the work order's stream, read by the handler.

    From the read model and the records: the contract's SLA terms, the site's access
    notes, the approval limit in force, and what the field reported (finished at all;
    completed, and by whom).
    """

    terms: SlaTerms = STANDARD_TERMS
    site_access: str = ""
    value_limit_minor: int = APPROVAL_VALUE_LIMIT_MINOR
    closed_by_field: bool = False
    completed_by_field: bool = False
    technician_id: str | None = None


@dataclass(frozen=True)
class RequestRecords:
    """The records a new request names, resolved and cross-checked by the handler."""

    customer_name: str | None
    site: SiteAddress
    terms: SlaTerms
    asset: AssetInfo | None = None
    contact: Contact | None = None
    contract_id: str | None = None


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
    """Apply one event (one that is not the work order's changes nothing)."""
    apply = _EVOLVE.get(type(event))
    return state if apply is None else apply(state, event)


def _logged(state: WorkOrder, event: RequestLogged) -> WorkOrder:
    return replace(
        state,
        status=Status.LOGGED,
        logged=event,
        priority=event.priority,
        respond_by=event.respond_by,
        resolve_by=event.resolve_by,
        job_type=event.job_type,
    )


def _flagged(state: WorkOrder, event: PossibleDuplicateFlagged) -> WorkOrder:
    return replace(state, possible_duplicate_of=event.possible_duplicate_of)


def _linked(state: WorkOrder, event: DuplicateLinked) -> WorkOrder:
    return replace(state, status=Status.DUPLICATE, duplicate_of=event.duplicate_of)


def _priority_changed(state: WorkOrder, event: RequestPriorityChanged) -> WorkOrder:
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


def _details_updated(state: WorkOrder, event: WorkOrderDetailsUpdated) -> WorkOrder:
    new = replace(state, details=event.details, job_type=event.details.job_type)
    if state.status is Status.APPROVED and _beyond(state.approved, event.details):
        return replace(new, status=Status.LOGGED, approved=None)
    return new


def _approval_requested(state: WorkOrder, event: ApprovalRequested) -> WorkOrder:
    basis = ApprovalBasis(state.job_type, event.estimated_value_minor)
    return replace(state, status=Status.AWAITING_APPROVAL, pending_approval=basis)


def _approved(state: WorkOrder, event: WorkOrderApproved) -> WorkOrder:
    return replace(
        state,
        status=Status.APPROVED,
        approved=state.pending_approval,
        pending_approval=None,
    )


def _rejected(state: WorkOrder, event: WorkOrderRejected) -> WorkOrder:
    return replace(state, status=Status.REJECTED, pending_approval=None)


def _released(state: WorkOrder, event: WorkOrderReleased) -> WorkOrder:
    return replace(
        state,
        status=Status.RELEASED,
        details=event.details,
        job_type=event.details.job_type,
    )


def _amended(state: WorkOrder, event: WorkOrderAmended) -> WorkOrder:
    return replace(
        state,
        details=event.details,
        job_type=event.details.job_type,
        priority=event.details.priority,
        respond_by=event.details.respond_by,
        resolve_by=event.details.resolve_by,
    )


def _cancelled(state: WorkOrder, event: WorkOrderCancelled) -> WorkOrder:
    return replace(state, status=Status.CANCELLED)


def _rated(state: WorkOrder, event: VisitRated) -> WorkOrder:
    return replace(state, rated=event)


# What each of the work order's events does to it, by the event's class.
_EVOLVE: dict[type[Event], Callable[[WorkOrder, Any], WorkOrder]] = {
    RequestLogged: _logged,
    PossibleDuplicateFlagged: _flagged,
    DuplicateLinked: _linked,
    RequestPriorityChanged: _priority_changed,
    WorkOrderDetailsUpdated: _details_updated,
    ApprovalRequested: _approval_requested,
    WorkOrderApproved: _approved,
    WorkOrderRejected: _rejected,
    WorkOrderReleased: _released,
    WorkOrderAmended: _amended,
    WorkOrderCancelled: _cancelled,
    VisitRated: _rated,
}


def _beyond(basis: ApprovalBasis | None, details: WorkOrderDetails) -> bool:
    if basis is None:
        return True
    if details.job_type != basis.job_type:
        return True
    return (details.estimated_value_minor or 0) > (basis.estimated_value_minor or 0)


# -- logging ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateCandidate:
    """The open request the duplicate check found, with its similarity (0..1)."""

    work_order_id: str
    similarity: float


class AlreadyExistsError(InvalidTransitionError):
    """The work order id is taken (a retried or concurrent planned or derived request)."""


def decide_log_request(
    state: WorkOrder,
    cmd: LogRequest,
    records: RequestRecords,
    duplicate: DuplicateCandidate | None = None,
) -> list[Event]:
    """RequestLogged with SLA deadlines, and PossibleDuplicateFlagged when one was found."""
    if state.status is not Status.NEW:
        raise AlreadyExistsError(f"work order {cmd.work_order_id} already exists")
    if cmd.job_type is not None:
        _template(cmd.job_type)
    respond_by, resolve_by = deadlines(
        records.terms, cmd.priority, cmd.logged_at, ZoneInfo(records.site.time_zone)
    )
    events: list[Event] = [
        RequestLogged(
            work_order_id=cmd.work_order_id,
            customer_id=cmd.customer_id,
            customer_name=records.customer_name,
            site=records.site,
            asset=records.asset,
            contact=records.contact,
            channel=cmd.channel,
            description=cmd.description,
            priority=cmd.priority,
            logged_at=cmd.logged_at,
            logged_by=cmd.logged_by,
            respond_by=respond_by,
            resolve_by=resolve_by,
            contract_id=records.contract_id,
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
    """The details as they stand; None while no job type is known.

    The draft or released ones, else the job type's template applied to the logged request.
    """
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


def decide_change_details(state: WorkOrder, cmd: ChangeDetails, facts: Facts) -> list[Event]:
    """WorkOrderDetailsUpdated before release, WorkOrderAmended after; nothing if unchanged."""
    unknown = set(cmd.changes) - EDITABLE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(f"{field} cannot be changed on a work order", field=field)
    if state.status is Status.AWAITING_APPROVAL:
        raise InvalidTransitionError(
            f"work order {state.id} is awaiting approval; approve or reject it before editing"
        )
    _require_open(state, "change the details of", facts.closed_by_field)
    base = current_details(state, facts.site_access)
    changes = dict(cmd.changes)
    new_type = changes.get("job_type")
    if base is None and new_type is None:
        raise DomainError("choose a job type first: the details come from it", field="job_type")
    if new_type is not None and (base is None or new_type != base.job_type):
        template = _template(new_type)
        for name in _FROM_TEMPLATE:
            changes.setdefault(name, getattr(template, name))
        base = base or current_details(replace(state, job_type=new_type), facts.site_access)
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
                amended_by=cmd.by,
                amended_at=cmd.at,
            )
        ]
    return [
        WorkOrderDetailsUpdated(
            work_order_id=state.id,
            details=details,
            changed_fields=changed,
            updated_by=cmd.by,
            updated_at=cmd.at,
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
        raise InvalidTransitionError(f"work order {state.id} does not exist")
    if state.status in CLOSED:
        raise InvalidTransitionError(f"cannot {action} work order {state.id}: it is {state.status}")
    if closed_by_field:
        raise InvalidTransitionError(
            f"cannot {action} work order {state.id}: the field already reported it finished"
        )


# -- priority ---------------------------------------------------------------------------


def decide_change_priority(state: WorkOrder, cmd: ChangePriority, facts: Facts) -> list[Event]:
    """RequestPriorityChanged, plus WorkOrderAmended when dispatch already has the job."""
    _require_open(state, "change the priority of", facts.closed_by_field)
    assert state.logged is not None and state.priority is not None
    if cmd.priority == state.priority:
        raise DomainError(f"the priority is already {cmd.priority}", field="priority")
    # The clock started when the request was logged: a raised priority can make a
    # deadline fall due at once, which is what the office needs to see.
    respond_by, resolve_by = deadlines(
        facts.terms, cmd.priority, state.logged.logged_at, ZoneInfo(state.logged.site.time_zone)
    )
    changed = RequestPriorityChanged(
        work_order_id=state.id,
        priority=cmd.priority,
        previous_priority=state.priority,
        respond_by=respond_by,
        resolve_by=resolve_by,
        reason=cmd.reason,
        changed_by=cmd.by,
        changed_at=cmd.at,
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
        amended_by=cmd.by,
        amended_at=cmd.at,
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


def decide_request_approval(state: WorkOrder, cmd: RequestApproval, facts: Facts) -> list[Event]:
    """ApprovalRequested with the reasons."""
    if state.status not in (Status.LOGGED,):
        if state.status is Status.APPROVED:
            raise InvalidTransitionError(f"work order {state.id} is already approved")
        if state.status is Status.AWAITING_APPROVAL:
            raise InvalidTransitionError(f"work order {state.id} is already awaiting approval")
        _require_open(state, "request approval for")
        raise InvalidTransitionError(
            f"work order {state.id} is {state.status}: approval is for before release"
        )
    details = current_details(state, facts.site_access)
    if details is None:
        raise DomainError("choose a job type before asking for approval", field="job_type")
    reasons = approval_reasons(details, facts.value_limit_minor)
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
            requested_by=cmd.by,
            requested_at=cmd.at,
        )
    ]


def decide_approval(state: WorkOrder, cmd: DecideApproval, facts: Facts) -> list[Event]:
    """WorkOrderApproved or WorkOrderRejected (the facts do not enter into it)."""
    if state.status is not Status.AWAITING_APPROVAL:
        raise InvalidTransitionError(
            f"work order {state.id} is {state.status}, not awaiting approval; nothing to decide"
        )
    if cmd.approve:
        return [
            WorkOrderApproved(
                work_order_id=state.id,
                approved_by=cmd.by,
                approved_at=cmd.at,
                note=cmd.note,
            )
        ]
    if not cmd.note.strip():
        raise DomainError("a rejection needs a reason", field="reason")
    return [
        WorkOrderRejected(
            work_order_id=state.id,
            rejected_by=cmd.by,
            rejected_at=cmd.at,
            reason=cmd.note[:500],
        )
    ]


# -- release and cancel -----------------------------------------------------------------


def decide_release(state: WorkOrder, cmd: Release, facts: Facts) -> list[Event]:
    """WorkOrderReleased, once the details are complete and any approval is given."""
    if state.status is Status.RELEASED:
        raise InvalidTransitionError(f"work order {state.id} is already released")
    if state.status is Status.AWAITING_APPROVAL:
        raise InvalidTransitionError(
            f"work order {state.id} is awaiting approval; it cannot be released yet"
        )
    _require_open(state, "release")
    details = current_details(state, facts.site_access)
    if details is None:
        raise DomainError("choose a job type before release", field="job_type")
    reasons = approval_reasons(details, facts.value_limit_minor)
    if reasons and state.status is not Status.APPROVED:
        raise InvalidTransitionError(
            f"work order {state.id} needs approval before release ({'; '.join(reasons)}); "
            "request approval first"
        )
    return [
        WorkOrderReleased(
            work_order_id=state.id,
            details=details,
            released_by=cmd.by,
            released_at=cmd.at,
        )
    ]


def decide_cancel(state: WorkOrder, cmd: Cancel, facts: Facts) -> list[Event]:
    """WorkOrderCancelled."""
    _require_open(state, "cancel", facts.closed_by_field)
    return [
        WorkOrderCancelled(
            work_order_id=state.id,
            reason=cmd.reason,
            cancelled_by=cmd.by,
            cancelled_at=cmd.at,
        )
    ]


# -- duplicates -------------------------------------------------------------------------


def decide_link_duplicate(state: WorkOrder, cmd: LinkDuplicate, facts: Facts) -> list[Event]:
    """DuplicateLinked: this request closes, pointing at the one that carries the work.

    The facts do not enter into it: the handler checked the other request's customer.
    """
    if cmd.duplicate_of == state.id:
        raise DomainError("a request cannot duplicate itself", field="duplicate_of")
    if state.status is Status.RELEASED:
        raise InvalidTransitionError(
            f"work order {state.id} is already released; cancel it instead of linking"
        )
    _require_open(state, "link")
    return [
        DuplicateLinked(
            work_order_id=state.id,
            duplicate_of=cmd.duplicate_of,
            linked_by=cmd.by,
            linked_at=cmd.at,
        )
    ]


# -- the customer's rating --------------------------------------------------------------

SCORES = range(1, 6)
MAX_COMMENT = 2000


def decide_rate_visit(state: WorkOrder, cmd: RateVisit, facts: Facts) -> list[Event]:
    """VisitRated, once per work order, for a job the field completed."""
    if cmd.score not in SCORES:
        raise DomainError(
            f"score must be from 1 (poor) to 5 (excellent), not {cmd.score}", field="score"
        )
    if len(cmd.comment) > MAX_COMMENT:
        raise DomainError(f"a comment is at most {MAX_COMMENT} characters", field="comment")
    if state.status is Status.NEW or state.logged is None:
        raise InvalidTransitionError(f"work order {state.id} does not exist")
    if state.status in CLOSED:
        raise InvalidTransitionError(
            f"work order {state.id} is {state.status}: there is no visit to rate"
        )
    if state.rated is not None:
        raise InvalidTransitionError(
            f"work order {state.id} is already rated ({state.rated.score} of 5); "
            "a visit is rated once"
        )
    if not facts.completed_by_field:
        raise InvalidTransitionError(
            f"work order {state.id} is not completed yet; a visit can be rated once the job is done"
        )
    return [
        VisitRated(
            work_order_id=state.id,
            customer_id=state.logged.customer_id,
            technician_id=facts.technician_id,
            score=cmd.score,
            comment=cmd.comment,
            rated_by=cmd.by,
            rated_at=cmd.at,
        )
    ]
