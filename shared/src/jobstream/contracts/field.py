"""Events owned by fieldupdates, on `workorders.field`.

Job events have the work order as subject; `TechnicianLocated` has the technician. Every
action taken on a device records both clocks: ``device_time`` (when the technician did it,
perhaps offline) and ``received_at`` (when the server got it), plus the device's own
``action_id`` so a re-sent action is recognised.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from jobstream.contracts import topics
from jobstream.contracts.base import Contract, Event, UtcDatetime, registry
from jobstream.contracts.common import (
    AnswerType,
    GeoPoint,
    Identifier,
    LongText,
    PartSpec,
    Priority,
    QuantityMilli,
    ShortText,
)


class FieldEvent(Event):
    """Base of fieldupdates' job events."""

    topic: ClassVar[str] = topics.FIELD
    schema_version: ClassVar[int] = 1

    work_order_id: Identifier
    technician_id: Identifier


class FieldAction(FieldEvent):
    """Something done on the technician's device."""

    action_id: Identifier | None = None
    device_time: UtcDatetime
    received_at: UtcDatetime


# ---------------------------------------------------------------------------------------
# status flow: acknowledged → en route → on site → in progress ⇄ on hold → completed | incomplete


@registry.register
class JobAcknowledgedV1(FieldAction):
    """The technician has seen the job on the device."""

    event_type: ClassVar[str] = "JobAcknowledged"


@registry.register
class TravelStartedV1(FieldAction):
    """En route to the site."""

    event_type: ClassVar[str] = "TravelStarted"

    eta: UtcDatetime | None = None


@registry.register
class EtaRevisedV1(FieldAction):
    """On the way, the technician expects to arrive at another time (traffic, a detour).

    The customer's portal shows the new ETA. The status stays en route.
    """

    event_type: ClassVar[str] = "EtaRevised"

    eta: UtcDatetime


@registry.register
class TechnicianArrivedV1(FieldAction):
    """On site: the moment that answers the respond-by SLA."""

    event_type: ClassVar[str] = "TechnicianArrived"


@registry.register
class JobStartedV1(FieldAction):
    """Work began (or the job went back to in progress after a hold)."""

    event_type: ClassVar[str] = "JobStarted"


class HoldReason(StrEnum):
    """Why work paused."""

    PARTS_REQUIRED = "parts_required"
    CUSTOMER_UNAVAILABLE = "customer_unavailable"
    ACCESS_DENIED = "access_denied"
    AWAITING_APPROVAL = "awaiting_approval"
    SAFETY = "safety"
    OTHER = "other"


@registry.register
class JobPutOnHoldV1(FieldAction):
    """Work paused on site."""

    event_type: ClassVar[str] = "JobPutOnHold"

    reason: HoldReason
    detail: Annotated[str, Field(max_length=2000)] = ""


@registry.register
class JobResumedV1(FieldAction):
    """Work resumed after a hold."""

    event_type: ClassVar[str] = "JobResumed"


@registry.register
class JobCompletedV1(FieldAction):
    """The job is done. Totals summarise the job's TimeLogged and MaterialUsed events."""

    event_type: ClassVar[str] = "JobCompleted"

    customer_id: Identifier
    site_id: Identifier | None = None
    asset_id: Identifier | None = None
    job_type: Identifier
    priority: Priority
    completed_at: UtcDatetime
    labour_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)]
    travel_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0
    findings: Annotated[str, Field(max_length=5000)] = ""
    work_done: LongText
    first_time_fix: bool
    follow_up_needed: bool = False
    follow_up_reason: Annotated[str, Field(max_length=2000)] | None = None
    next_service_due: date | None = None


class IncompleteReason(StrEnum):
    """Why a job could not be completed."""

    PARTS_UNAVAILABLE = "parts_unavailable"
    NO_ACCESS = "no_access"
    CUSTOMER_CANCELLED = "customer_cancelled"
    NEEDS_SPECIALIST = "needs_specialist"
    UNSAFE = "unsafe"
    OUT_OF_TIME = "out_of_time"
    OTHER = "other"


@registry.register
class JobIncompleteV1(FieldAction):
    """The visit ended without completing the job."""

    event_type: ClassVar[str] = "JobIncomplete"

    customer_id: Identifier
    site_id: Identifier | None = None
    asset_id: Identifier | None = None
    job_type: Identifier
    priority: Priority
    ended_at: UtcDatetime
    reason: IncompleteReason
    detail: Annotated[str, Field(max_length=2000)] = ""
    labour_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0
    travel_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0
    follow_up_needed: bool = True


@registry.register
class JobReopenedV1(FieldEvent):
    """The office reopened a completed job (a correction, or the fault came back)."""

    event_type: ClassVar[str] = "JobReopened"

    reason: ShortText
    reopened_by: Identifier
    reopened_at: UtcDatetime


# ---------------------------------------------------------------------------------------
# records


class TimeKind(StrEnum):
    """What the time was spent on."""

    TRAVEL = "travel"
    LABOUR = "labour"


@registry.register
class TimeLoggedV1(FieldAction):
    """Time spent, from a start/stop pair or a stated duration."""

    event_type: ClassVar[str] = "TimeLogged"

    entry_id: Identifier
    kind: TimeKind
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    minutes: Annotated[int, Field(gt=0, le=24 * 60)]


class MaterialSource(StrEnum):
    """Where a material came from."""

    VAN_STOCK = "van_stock"
    BOUGHT_IN = "bought_in"


@registry.register
class MaterialUsedV1(FieldAction):
    """A material or part fitted or consumed on the job."""

    event_type: ClassVar[str] = "MaterialUsed"

    entry_id: Identifier
    sku: Identifier
    description: ShortText
    quantity_milli: QuantityMilli
    unit: Annotated[str, Field(min_length=1, max_length=20)] = "each"
    source: MaterialSource = MaterialSource.VAN_STOCK
    # What a bought-in item cost the business, for cost-plus pricing.
    unit_cost_minor: Annotated[int, Field(ge=0)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"


@registry.register
class MaterialUsageCorrectedV1(FieldEvent):
    """A material entry was corrected (0 means it was not used after all)."""

    event_type: ClassVar[str] = "MaterialUsageCorrected"

    entry_id: Identifier
    quantity_milli: Annotated[int, Field(ge=0, le=10**9)]
    reason: ShortText
    corrected_by: Identifier
    corrected_at: UtcDatetime


@registry.register
class PartsRequestedV1(FieldAction):
    """The technician needs parts: visible to the office at once."""

    event_type: ClassVar[str] = "PartsRequested"

    request_id: Identifier
    parts: Annotated[tuple[PartSpec, ...], Field(min_length=1)]
    note: Annotated[str, Field(max_length=2000)] = ""


@registry.register
class NoteAddedV1(FieldAction):
    """A note on the job; ``carry_forward`` shows it on the next visit to the site."""

    event_type: ClassVar[str] = "NoteAdded"

    note_id: Identifier
    text: LongText
    carry_forward: bool = False
    site_id: Identifier | None = None


class AttachmentKind(StrEnum):
    """What an attachment is."""

    PHOTO = "photo"
    SIGNATURE = "signature"
    DOCUMENT = "document"


@registry.register
class AttachmentAddedV1(FieldAction):
    """A file was stored in the object store; the event carries its identity, never bytes."""

    event_type: ClassVar[str] = "AttachmentAdded"

    attachment_id: Identifier
    kind: AttachmentKind
    content_type: Annotated[str, Field(min_length=3, max_length=200)]
    size_bytes: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    caption: Annotated[str, Field(max_length=500)] = ""


class ChecklistAnswer(Contract):
    """A typed answer; exactly the field of its ``answer_type`` is set."""

    answer_type: AnswerType
    yes_no: bool | None = None
    number: float | None = None
    unit: Annotated[str, Field(max_length=20)] | None = None
    text: Annotated[str, Field(max_length=5000)] | None = None
    attachment_id: Identifier | None = None

    @model_validator(mode="after")
    def _matches_type(self) -> ChecklistAnswer:
        field = {
            AnswerType.YES_NO: "yes_no",
            AnswerType.NUMBER: "number",
            AnswerType.TEXT: "text",
            AnswerType.PHOTO: "attachment_id",
        }[self.answer_type]
        if getattr(self, field) is None:
            raise ValueError(f"a {self.answer_type.value} answer needs {field}")
        return self


@registry.register
class ChecklistItemAnsweredV1(FieldAction):
    """One job sheet item answered (a later answer to the same item replaces it)."""

    event_type: ClassVar[str] = "ChecklistItemAnswered"

    template_id: Identifier
    item_id: Identifier
    answer: ChecklistAnswer


@registry.register
class SignatureCapturedV1(FieldAction):
    """The customer signed; the image is an attachment."""

    event_type: ClassVar[str] = "SignatureCaptured"

    attachment_id: Identifier
    signer_name: ShortText
    signed_at: UtcDatetime


@registry.register
class DeviceActionRejectedV1(FieldEvent):
    """An action synced from a device conflicted with the office.

    The job was cancelled or reassigned meanwhile. Its data is kept here, whole, for the
    office to see.
    """

    event_type: ClassVar[str] = "DeviceActionRejected"

    action_id: Identifier
    action_type: Annotated[str, Field(min_length=1, max_length=60)]
    reason: ShortText
    payload: dict[str, Any]
    device_time: UtcDatetime
    received_at: UtcDatetime


@registry.register
class RejectedActionAppliedV1(FieldEvent):
    """The office applied a kept device action to the job as it now stands.

    The action is a time entry, material, parts request or note of a technician the job
    was taken from. The record it makes follows in the same append, attributed to that
    technician (``technician_id``).
    """

    event_type: ClassVar[str] = "RejectedActionApplied"

    action_id: Identifier
    action_type: Annotated[str, Field(min_length=1, max_length=60)]
    note: Annotated[str, Field(max_length=500)] = ""
    applied_by: Identifier
    applied_at: UtcDatetime


@registry.register
class RejectedActionDiscardedV1(FieldEvent):
    """The office decided a kept device action changes nothing, and said why."""

    event_type: ClassVar[str] = "RejectedActionDiscarded"

    action_id: Identifier
    action_type: Annotated[str, Field(min_length=1, max_length=60)]
    reason: ShortText
    discarded_by: Identifier
    discarded_at: UtcDatetime


@registry.register
class TechnicianLocatedV1(Event):
    """A location ping from a technician's device (rate-limited), for the dispatch board."""

    event_type: ClassVar[str] = "TechnicianLocated"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.FIELD
    subject_field: ClassVar[str] = "technician_id"

    technician_id: Identifier
    location: GeoPoint
    accuracy_m: Annotated[float, Field(ge=0)] | None = None
    device_time: UtcDatetime
    received_at: UtcDatetime


JobAcknowledged = JobAcknowledgedV1
TravelStarted = TravelStartedV1
EtaRevised = EtaRevisedV1
TechnicianArrived = TechnicianArrivedV1
JobStarted = JobStartedV1
JobPutOnHold = JobPutOnHoldV1
JobResumed = JobResumedV1
JobCompleted = JobCompletedV1
JobIncomplete = JobIncompleteV1
JobReopened = JobReopenedV1
TimeLogged = TimeLoggedV1
MaterialUsed = MaterialUsedV1
MaterialUsageCorrected = MaterialUsageCorrectedV1
PartsRequested = PartsRequestedV1
NoteAdded = NoteAddedV1
AttachmentAdded = AttachmentAddedV1
ChecklistItemAnswered = ChecklistItemAnsweredV1
SignatureCaptured = SignatureCapturedV1
DeviceActionRejected = DeviceActionRejectedV1
RejectedActionApplied = RejectedActionAppliedV1
RejectedActionDiscarded = RejectedActionDiscardedV1
TechnicianLocated = TechnicianLocatedV1
