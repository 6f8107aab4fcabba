"""Value types shared by several services' events."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from jobstream.contracts.base import Contract, UtcDatetime

Identifier = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
SkillName = Annotated[str, Field(min_length=1, max_length=60, examples=["gas_boiler"])]
ShortText = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]
# Quantities are thousandths (1.5 hours = 1500, 2 units = 2000): exact, never floats.
QuantityMilli = Annotated[int, Field(gt=0, le=10**9, description="Quantity × 1000")]


class Priority(StrEnum):
    """Set at logging: P1 emergency … P4 planned."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Channel(StrEnum):
    """Where a request came from."""

    PHONE = "phone"
    PORTAL = "portal"
    API = "api"
    EMAIL = "email"
    PLANNED = "planned"
    # Raised by intake itself when the field reports that a job needs another visit.
    FOLLOW_UP = "follow_up"


class GeoPoint(Contract):
    """WGS84 coordinates."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class SiteAddress(Contract):
    """Where the work is done; ``time_zone`` (IANA) applies to SLAs and appointments."""

    site_id: Identifier
    address: Annotated[str, Field(min_length=1, max_length=500)]
    location: GeoPoint
    time_zone: str = "Europe/London"


class Contact(Contract):
    """Who to call about the job on site."""

    name: ShortText
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None


class AssetInfo(Contract):
    """The equipment the job is about."""

    asset_id: Identifier
    asset_type: ShortText
    make: Annotated[str, Field(max_length=200)] | None = None
    model: Annotated[str, Field(max_length=200)] | None = None
    serial_number: Annotated[str, Field(max_length=200)] | None = None
    installed_on: date | None = None


class AttachmentRef(Contract):
    """A file kept in the object store (e.g. a photo sent with an emailed request)."""

    key: Annotated[str, Field(min_length=1, max_length=500)]
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=3, max_length=200)]
    size_bytes: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class PartSpec(Contract):
    """A part or material expected (work order) or asked for (parts request)."""

    sku: Identifier
    description: ShortText
    quantity_milli: QuantityMilli
    unit: Annotated[str, Field(min_length=1, max_length=20)] = "each"


class AnswerType(StrEnum):
    """What kind of answer a checklist item takes."""

    YES_NO = "yes_no"
    NUMBER = "number"
    TEXT = "text"
    PHOTO = "photo"


class ChecklistItemSpec(Contract):
    """One item of a job sheet."""

    item_id: Identifier
    label: ShortText
    answer_type: AnswerType
    unit: Annotated[str, Field(max_length=20)] | None = None
    required: bool = True


class ChecklistTemplate(Contract):
    """The standard job sheet of a job type."""

    template_id: Identifier
    title: ShortText
    items: tuple[ChecklistItemSpec, ...]


class TimeWindow(Contract):
    """An interval; for a customer, when the visit may take place."""

    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SkillLevel(Contract):
    """A skill a technician has, at a level (1 apprentice … 5 specialist)."""

    name: SkillName
    level: Annotated[int, Field(ge=1, le=5)] = 3


class Certification(Contract):
    """A certification (Gas Safe, F-Gas, 18th Edition …) valid until ``expires_on``."""

    name: SkillName
    expires_on: date
    reference: Annotated[str, Field(max_length=100)] | None = None


class WorkOrderDetails(Contract):
    """Everything downstream needs to schedule, do and bill a job: the job pack's core.

    Intake sends the whole of it on release and again, whole, on every amendment, so that
    dispatch and fieldupdates never need to ask for anything.
    """

    customer_id: Identifier
    customer_name: Annotated[str, Field(max_length=200)] | None = None
    site: SiteAddress
    contact: Contact | None = None
    asset: AssetInfo | None = None
    job_type: Identifier
    description: LongText
    priority: Priority
    required_skills: tuple[SkillName, ...]
    required_certifications: tuple[SkillName, ...] = ()
    estimated_duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    parts: tuple[PartSpec, ...] = ()
    safety_requirements: tuple[ShortText, ...] = ()
    access_instructions: Annotated[str, Field(max_length=2000)] = ""
    checklist: ChecklistTemplate | None = None
    time_window: TimeWindow | None = None
    respond_by: UtcDatetime
    resolve_by: UtcDatetime
    contract_id: Identifier | None = None
    estimated_value_minor: Annotated[int, Field(ge=0)] | None = None
    follow_up_of: Identifier | None = None
    maintenance_plan_id: Identifier | None = None
    attachments: tuple[AttachmentRef, ...] = ()
