"""Events owned by intake, on `workorders.intake`; the subject is the work order id.

One request is one work order for its whole life, so `work_order_id` names both.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Event, UtcDatetime, registry
from jobstream.contracts.common import (
    AssetInfo,
    AttachmentRef,
    Channel,
    Contact,
    Identifier,
    LongText,
    Priority,
    ShortText,
    SiteAddress,
    WorkOrderDetails,
)


class IntakeEvent(Event):
    """Base of intake's events."""

    topic: ClassVar[str] = topics.INTAKE
    schema_version: ClassVar[int] = 1

    work_order_id: Identifier


@registry.register
class RequestLoggedV1(IntakeEvent):
    """A request was logged, from any channel, with its priority and SLA deadlines."""

    event_type: ClassVar[str] = "RequestLogged"

    customer_id: Identifier
    customer_name: Annotated[str, Field(max_length=200)] | None = None
    site: SiteAddress
    asset: AssetInfo | None = None
    contact: Contact | None = None
    channel: Channel
    description: LongText
    priority: Priority
    logged_at: UtcDatetime
    logged_by: Identifier
    respond_by: UtcDatetime
    resolve_by: UtcDatetime
    contract_id: Identifier | None = None
    external_reference: Annotated[str, Field(max_length=500)] | None = None
    follow_up_of: Identifier | None = None
    maintenance_plan_id: Identifier | None = None
    # The job type, when the caller knew it at logging; the office can set or change it.
    job_type: Identifier | None = None
    # Files that came with the request (an email's attachments), in the object store.
    attachments: tuple[AttachmentRef, ...] = ()


@registry.register
class RequestPriorityChangedV1(IntakeEvent):
    """The priority changed, and with it the SLA deadlines."""

    event_type: ClassVar[str] = "RequestPriorityChanged"

    priority: Priority
    previous_priority: Priority
    respond_by: UtcDatetime
    resolve_by: UtcDatetime
    reason: ShortText
    changed_by: Identifier
    changed_at: UtcDatetime


@registry.register
class PossibleDuplicateFlaggedV1(IntakeEvent):
    """An open request for the same site (and asset) looks like this one; never merged."""

    event_type: ClassVar[str] = "PossibleDuplicateFlagged"

    possible_duplicate_of: Identifier
    similarity: Annotated[float, Field(ge=0, le=1)]
    flagged_at: UtcDatetime


@registry.register
class DuplicateLinkedV1(IntakeEvent):
    """The office confirmed this request duplicates another and linked them."""

    event_type: ClassVar[str] = "DuplicateLinked"

    duplicate_of: Identifier
    linked_by: Identifier
    linked_at: UtcDatetime


@registry.register
class ApprovalRequestedV1(IntakeEvent):
    """The job type or its estimated value needs approval before release."""

    event_type: ClassVar[str] = "ApprovalRequested"

    reason: ShortText
    estimated_value_minor: Annotated[int, Field(ge=0)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"
    requested_by: Identifier
    requested_at: UtcDatetime


@registry.register
class WorkOrderApprovedV1(IntakeEvent):
    """Approval given."""

    event_type: ClassVar[str] = "WorkOrderApproved"

    approved_by: Identifier
    approved_at: UtcDatetime
    note: Annotated[str, Field(max_length=2000)] = ""


@registry.register
class WorkOrderRejectedV1(IntakeEvent):
    """Approval refused; the work order will not be released."""

    event_type: ClassVar[str] = "WorkOrderRejected"

    rejected_by: Identifier
    rejected_at: UtcDatetime
    reason: ShortText


@registry.register
class WorkOrderDetailsUpdatedV1(IntakeEvent):
    """The office completed or changed the job details before release.

    ``details`` is the whole draft as it now stands; nothing downstream acts on it (release
    carries the final details), but it keeps the office's edits in the log.
    """

    event_type: ClassVar[str] = "WorkOrderDetailsUpdated"

    details: WorkOrderDetails
    changed_fields: tuple[str, ...]
    updated_by: Identifier
    updated_at: UtcDatetime


@registry.register
class WorkOrderReleasedV1(IntakeEvent):
    """Released for scheduling, carrying the whole job pack dispatch and the device need."""

    event_type: ClassVar[str] = "WorkOrderReleased"

    details: WorkOrderDetails
    released_by: Identifier
    released_at: UtcDatetime


@registry.register
class WorkOrderAmendedV1(IntakeEvent):
    """Changed after release: ``details`` is the whole work order as it now stands."""

    event_type: ClassVar[str] = "WorkOrderAmended"

    details: WorkOrderDetails
    changed_fields: tuple[str, ...]
    reason: Annotated[str, Field(max_length=2000)] = ""
    amended_by: Identifier
    amended_at: UtcDatetime


@registry.register
class WorkOrderCancelledV1(IntakeEvent):
    """Cancelled, before or after release; downstream stops work on it."""

    event_type: ClassVar[str] = "WorkOrderCancelled"

    reason: ShortText
    cancelled_by: Identifier
    cancelled_at: UtcDatetime


@registry.register
class VisitRatedV1(IntakeEvent):
    """The customer rated a completed visit (1 poor – 5 excellent), once per work order.

    The technician is the one who completed the job, so satisfaction can be read by
    technician without joining another stream.
    """

    event_type: ClassVar[str] = "VisitRated"

    customer_id: Identifier
    technician_id: Identifier | None = None
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] = ""
    rated_by: Identifier
    rated_at: UtcDatetime


RequestLogged = RequestLoggedV1
RequestPriorityChanged = RequestPriorityChangedV1
PossibleDuplicateFlagged = PossibleDuplicateFlaggedV1
DuplicateLinked = DuplicateLinkedV1
ApprovalRequested = ApprovalRequestedV1
WorkOrderApproved = WorkOrderApprovedV1
WorkOrderRejected = WorkOrderRejectedV1
WorkOrderDetailsUpdated = WorkOrderDetailsUpdatedV1
WorkOrderReleased = WorkOrderReleasedV1
WorkOrderAmended = WorkOrderAmendedV1
WorkOrderCancelled = WorkOrderCancelledV1
VisitRated = VisitRatedV1
