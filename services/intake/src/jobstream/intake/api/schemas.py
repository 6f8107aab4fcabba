"""Request and response bodies of intake's API, each with an example for the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jobstream.contracts.common import (
    AttachmentRef,
    ChecklistTemplate,
    GeoPoint,
    Identifier,
    PartSpec,
    Priority,
    SkillName,
    TimeWindow,
    WorkOrderDetails,
)
from jobstream.intake.domain.sla import SlaError, terms_from_record

Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(min_length=1, max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

T_LOGGED = "2026-11-23T09:00:00Z"
MAX_REQUEST_ATTACHMENTS = 5


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A request body: unknown fields refused, with examples."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


def _view_examples(*examples: dict[str, Any]) -> ConfigDict:
    """A response body (built from rows that may hold more), with examples."""
    return ConfigDict(extra="ignore", json_schema_extra={"examples": list(examples)})


# -- records ----------------------------------------------------------------------------


_CUSTOMER_EXAMPLE = {
    "customer_id": "cust-deansgate-dental",
    "name": "Deansgate Dental Practice",
    "billing_address": "14 Deansgate, Manchester M3 2BW",
    "billing_email": "accounts@deansgatedental.example",
    "phone": "+44 161 496 0000",
}


class CustomerBody(BaseModel):
    """A customer: who is billed. Give ``customer_id`` to use your own id."""

    model_config = _examples(_CUSTOMER_EXAMPLE)

    customer_id: Identifier | None = None
    name: Text200
    billing_address: Annotated[str, Field(min_length=1, max_length=500)]
    billing_email: Email | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


class CustomerView(BaseModel):
    """A customer record."""

    model_config = _view_examples({**_CUSTOMER_EXAMPLE, "created_at": T_LOGGED})

    customer_id: str
    name: str
    billing_address: str
    billing_email: str | None
    phone: str | None
    created_at: datetime


class SiteBody(BaseModel):
    """A service address of a customer; ``time_zone`` (IANA) governs its SLAs."""

    model_config = _examples(
        {
            "site_id": "site-deansgate-dental",
            "customer_id": "cust-deansgate-dental",
            "name": "Surgery",
            "address": "14 Deansgate, Manchester M3 2BW",
            "location": {"lat": 53.4794, "lon": -2.2479},
            "time_zone": "Europe/London",
            "access_instructions": "Staff entrance on Police St; plant room key at reception",
        }
    )

    site_id: Identifier | None = None
    customer_id: Identifier
    name: Text200
    address: Annotated[str, Field(min_length=1, max_length=500)]
    location: GeoPoint
    time_zone: str = "Europe/London"
    access_instructions: Annotated[str, Field(max_length=2000)] = ""

    @field_validator("time_zone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class SiteView(BaseModel):
    """A site record."""

    model_config = _view_examples(
        {
            "site_id": "site-deansgate-dental",
            "customer_id": "cust-deansgate-dental",
            "name": "Surgery",
            "address": "14 Deansgate, Manchester M3 2BW",
            "location": {"lat": 53.4794, "lon": -2.2479},
            "time_zone": "Europe/London",
            "access_instructions": "Staff entrance on Police St",
            "created_at": T_LOGGED,
        }
    )

    site_id: str
    customer_id: str
    name: str
    address: str
    location: GeoPoint
    time_zone: str
    access_instructions: str
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        if isinstance(data, dict) and "lat" in data:
            data = {**data, "location": {"lat": data["lat"], "lon": data["lon"]}}
            data.pop("lat")
            data.pop("lon")
        return data


_CONTACT_EXAMPLE = {
    "contact_id": "ct-priya",
    "customer_id": "cust-deansgate-dental",
    "site_id": "site-deansgate-dental",
    "name": "Priya Shah (practice manager)",
    "phone": "+44 161 496 0001",
    "email": "priya@deansgatedental.example",
}


class ContactBody(BaseModel):
    """Someone to call; an email address here lets their emails become requests."""

    model_config = _examples(_CONTACT_EXAMPLE)

    contact_id: Identifier | None = None
    customer_id: Identifier
    site_id: Identifier | None = None
    name: Text200
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Email | None = None


class ContactView(BaseModel):
    """A contact record."""

    model_config = _view_examples({**_CONTACT_EXAMPLE, "created_at": T_LOGGED})

    contact_id: str
    customer_id: str
    site_id: str | None
    name: str
    phone: str | None
    email: str | None
    created_at: datetime


class AssetBody(BaseModel):
    """Equipment at a site."""

    model_config = _examples(
        {
            "asset_id": "asset-dd-boiler",
            "site_id": "site-deansgate-dental",
            "asset_type": "gas_boiler",
            "make": "Worcester Bosch",
            "model": "Greenstar 4000 30kW",
            "serial_number": "WB4000-30-118273",
            "installed_on": "2019-06-14",
        }
    )

    asset_id: Identifier | None = None
    site_id: Identifier
    asset_type: Text200
    make: Annotated[str, Field(max_length=200)] | None = None
    model: Annotated[str, Field(max_length=200)] | None = None
    serial_number: Annotated[str, Field(max_length=200)] | None = None
    installed_on: date | None = None


class AssetView(BaseModel):
    """An asset record."""

    model_config = _view_examples(
        {
            "asset_id": "asset-dd-boiler",
            "customer_id": "cust-deansgate-dental",
            "site_id": "site-deansgate-dental",
            "asset_type": "gas_boiler",
            "make": "Worcester Bosch",
            "model": "Greenstar 4000 30kW",
            "serial_number": "WB4000-30-118273",
            "installed_on": "2019-06-14",
            "created_at": T_LOGGED,
        }
    )

    asset_id: str
    customer_id: str
    site_id: str
    asset_type: str
    make: str | None
    model: str | None
    serial_number: str | None
    installed_on: date | None
    created_at: datetime


class TargetBody(BaseModel):
    """Minutes of covered time to respond (be on site) and to resolve."""

    model_config = ConfigDict(extra="forbid")

    respond_minutes: Annotated[int, Field(gt=0, le=60 * 24 * 366)]
    resolve_minutes: Annotated[int, Field(gt=0, le=60 * 24 * 366)]


class WindowBody(BaseModel):
    """Opening hours of one weekday, local time ('24:00' closes at midnight)."""

    model_config = ConfigDict(extra="forbid")

    open: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["08:00"])]
    close: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["18:00"])]


_CONTRACT_EXAMPLE = {
    "contract_id": "ctr-dd-gold",
    "customer_id": "cust-deansgate-dental",
    "name": "Gold: business hours",
    "coverage": "business_hours",
    "targets": {
        "P1": {"respond_minutes": 120, "resolve_minutes": 480},
        "P2": {"respond_minutes": 240, "resolve_minutes": 960},
        "P3": {"respond_minutes": 960, "resolve_minutes": 2400},
        "P4": {"respond_minutes": 2400, "resolve_minutes": 4800},
    },
    "business_hours": {
        day: {"open": "08:00", "close": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")
    },
    "holidays": ["2026-12-25", "2026-12-28"],
    "site_ids": [],
    "valid_from": "2026-01-01",
    "valid_to": None,
}


class ContractBody(BaseModel):
    """A service contract's SLA terms: targets per priority, counted 24/7 or in business hours."""

    model_config = _examples(_CONTRACT_EXAMPLE)

    contract_id: Identifier | None = None
    customer_id: Identifier
    name: Text200
    coverage: Literal["24x7", "business_hours"]
    targets: dict[Priority, TargetBody]
    business_hours: (
        dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], WindowBody] | None
    ) = None
    holidays: list[date] = Field(default_factory=list, max_length=400)
    site_ids: list[Identifier] = Field(
        default_factory=list, description="Sites covered; empty for every site of the customer."
    )
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ContractBody:
        if self.coverage == "24x7" and self.business_hours:
            raise ValueError("a 24x7 contract has no business_hours")
        if self.coverage == "business_hours" and not self.business_hours:
            raise ValueError("business_hours coverage needs business_hours")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        try:
            terms_from_record(self.stored_targets(), self.stored_hours(), self.holidays)
        except SlaError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def stored_targets(self) -> dict[str, dict[str, int]]:
        """Targets as stored."""
        return {p.value: t.model_dump() for p, t in self.targets.items()}

    def stored_hours(self) -> dict[str, dict[str, str]] | None:
        """Opening windows as stored: by ISO weekday number."""
        if not self.business_hours:
            return None
        return {str(WEEKDAYS.index(d) + 1): w.model_dump() for d, w in self.business_hours.items()}


class ContractView(BaseModel):
    """A contract record."""

    model_config = _view_examples({**_CONTRACT_EXAMPLE, "created_at": T_LOGGED})

    contract_id: str
    customer_id: str
    name: str
    coverage: Literal["24x7", "business_hours"]
    targets: dict[str, TargetBody]
    business_hours: dict[str, WindowBody] | None
    holidays: list[date]
    site_ids: list[str]
    valid_from: date
    valid_to: date | None
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        if isinstance(data, dict) and "coverage" not in data:
            hours = data.get("business_hours")
            data = {
                **data,
                "coverage": "business_hours" if hours else "24x7",
                "business_hours": {WEEKDAYS[int(d) - 1]: w for d, w in hours.items()}
                if hours
                else None,
            }
        return data


class JobTypeView(BaseModel):
    """A job type template."""

    model_config = _view_examples(
        {
            "code": "boiler_replacement",
            "description": "Gas boiler replacement",
            "required_skills": ["gas_boiler", "plumbing"],
            "required_certifications": ["gas_safe"],
            "estimated_duration_minutes": 480,
            "parts": [
                {
                    "sku": "BOILER-COMBI-30KW",
                    "description": "Combination boiler 30 kW",
                    "quantity_milli": 1000,
                    "unit": "each",
                }
            ],
            "safety_requirements": ["Gas Safe registered engineer only"],
            "checklist": None,
            "needs_approval": True,
        }
    )

    code: str
    description: str
    required_skills: list[str]
    required_certifications: list[str]
    estimated_duration_minutes: int
    parts: list[PartSpec]
    safety_requirements: list[str]
    checklist: ChecklistTemplate | None
    needs_approval: bool


# -- requests and work orders -----------------------------------------------------------

PHOTO_EXAMPLE = {
    "key": "intake/uploads/cust-deansgate-dental/" + "3b" * 32 + ".jpg",
    "filename": "radiator.jpg",
    "content_type": "image/jpeg",
    "size_bytes": 182311,
    "sha256": "3b" * 32,
}

_LOG_EXAMPLE = {
    "customer_id": "cust-deansgate-dental",
    "site_id": "site-deansgate-dental",
    "asset_id": "asset-dd-boiler",
    "contact_id": "ct-priya",
    "description": "Boiler locked out, no heating in surgery; fault code F28",
    "priority": "P2",
    "job_type": "boiler_repair",
    "channel": "phone",
}


class LogRequestBody(BaseModel):
    """A new request from the office (phone), the portal (customer) or another system (API).

    ``release: true`` is the one-shot for integrations: log and release in one transaction
    (or, when the job needs approval, log and request approval). The office normally logs,
    completes the details, then releases.
    """

    model_config = _examples(
        _LOG_EXAMPLE,
        {
            "customer_id": "cust-salford-lofts",
            "site_id": "site-salford-lofts-b",
            "description": "Water coming through ceiling of flat 12 from flat 22",
            "priority": "P1",
            "job_type": "leak_repair",
            "channel": "api",
            "external_reference": "HELPDESK-48213",
            "release": True,
        },
        {
            "customer_id": "cust-deansgate-dental",
            "site_id": "site-deansgate-dental",
            "description": "Radiator in reception is cold at the top",
            "priority": "P3",
            "attachments": [PHOTO_EXAMPLE],
        },
    )

    customer_id: Identifier
    site_id: Identifier
    asset_id: Identifier | None = None
    contact_id: Identifier | None = None
    contract_id: Identifier | None = Field(
        default=None, description="Defaults to the customer's contract covering the site."
    )
    description: Description
    priority: Priority
    job_type: Identifier | None = None
    channel: Literal["phone", "api", "portal"] | None = Field(
        default=None, description="Defaults to portal for customers, phone for the office."
    )
    external_reference: Annotated[str, Field(max_length=500)] | None = None
    release: bool = False
    attachments: list[AttachmentRef] = Field(
        default_factory=list,
        max_length=MAX_REQUEST_ATTACHMENTS,
        description="Photos uploaded first with POST /request-photos, as it answered: a "
        "customer's own uploads only; each must still be stored with the same sha256 and size.",
    )


_DETAILS_EXAMPLE = {
    "customer_id": "cust-deansgate-dental",
    "customer_name": "Deansgate Dental Practice",
    "site": {
        "site_id": "site-deansgate-dental",
        "address": "14 Deansgate, Manchester M3 2BW",
        "location": {"lat": 53.4794, "lon": -2.2479},
        "time_zone": "Europe/London",
    },
    "contact": {"name": "Priya Shah", "phone": "+44 161 496 0001", "email": None},
    "asset": None,
    "job_type": "boiler_repair",
    "description": "Boiler locked out, no heating in surgery; fault code F28",
    "priority": "P2",
    "required_skills": ["gas_boiler"],
    "required_certifications": ["gas_safe"],
    "estimated_duration_minutes": 120,
    "parts": [],
    "safety_requirements": ["Gas Safe registered engineer only"],
    "access_instructions": "Staff entrance on Police St",
    "checklist": None,
    "time_window": None,
    "respond_by": "2026-11-23T13:00:00Z",
    "resolve_by": "2026-11-24T09:00:00Z",
    "contract_id": None,
    "estimated_value_minor": None,
    "follow_up_of": None,
    "maintenance_plan_id": None,
    "attachments": [],
}

_VIEW_EXAMPLE = {
    "work_order_id": "wo-3f0c6c1e-8f5a-4f0e-9a53-0c7d1f0f5b1a",
    "customer_id": "cust-deansgate-dental",
    "customer_name": "Deansgate Dental Practice",
    "site_id": "site-deansgate-dental",
    "asset_id": None,
    "contract_id": None,
    "channel": "phone",
    "job_type": "boiler_repair",
    "description": "Boiler locked out, no heating in surgery; fault code F28",
    "priority": "P2",
    "status": "released",
    "logged_at": T_LOGGED,
    "logged_by": "office-anna",
    "respond_by": "2026-11-23T13:00:00Z",
    "resolve_by": "2026-11-24T09:00:00Z",
    "released_at": "2026-11-23T09:05:00Z",
    "cancelled_at": None,
    "responded_at": None,
    "completed_at": None,
    "technician_id": "tech-amir",
    "outcome": None,
    "first_time_fix": None,
    "follow_up_needed": None,
    "external_reference": None,
    "follow_up_of": None,
    "maintenance_plan_id": None,
    "possible_duplicate_of": None,
    "similarity": None,
    "duplicate_of": None,
    "approval_reason": None,
    "appointment_start": "2026-11-23T11:00:00Z",
    "appointment_end": "2026-11-23T12:30:00Z",
    "eta": "2026-11-23T11:10:00Z",
    "en_route_at": None,
    "appointment_decided_at": "2026-11-23T09:06:00Z",
    "rating": None,
    "rating_comment": None,
    "rated_at": None,
    "sla_at_risk": False,
    "version": 2,
    "updated_at": "2026-11-23T09:05:00Z",
}


class WorkOrderView(BaseModel):
    """A work order in the office list (and in the portal, for its customer)."""

    model_config = _view_examples(_VIEW_EXAMPLE)

    work_order_id: str
    customer_id: str
    customer_name: str | None
    site_id: str
    asset_id: str | None
    contract_id: str | None
    channel: str
    job_type: str | None
    description: str
    priority: Priority
    status: str = Field(
        description="logged, awaiting_approval, approved, rejected, released, cancelled, "
        "duplicate, completed or incomplete"
    )
    logged_at: datetime
    logged_by: str
    respond_by: datetime
    resolve_by: datetime
    released_at: datetime | None
    cancelled_at: datetime | None
    responded_at: datetime | None
    completed_at: datetime | None = Field(
        description="When the field reported the visit finished (completed or incomplete); "
        "null while open, and again once the office reopens it"
    )
    technician_id: str | None = Field(
        description="The technician dispatch planned, then the one who arrived or finished"
    )
    outcome: str | None = Field(
        description="The field's last word: completed, incomplete or reopened; null before"
    )
    first_time_fix: bool | None
    follow_up_needed: bool | None
    external_reference: str | None
    follow_up_of: str | None
    maintenance_plan_id: str | None
    possible_duplicate_of: str | None
    similarity: float | None
    duplicate_of: str | None
    approval_reason: str | None
    appointment_start: datetime | None = Field(
        default=None, description="Start of the planned visit window (dispatch's plan)"
    )
    appointment_end: datetime | None = Field(
        default=None, description="End of the planned visit window"
    )
    eta: datetime | None = Field(
        default=None,
        description="Expected arrival: the plan's, or the technician's once on the way",
    )
    en_route_at: datetime | None = Field(
        default=None, description="When the planned technician set off (device time)"
    )
    appointment_decided_at: datetime | None = Field(
        default=None,
        description="When dispatch made the decision the appointment shows (scheduled, "
        "rescheduled or unscheduled)",
    )
    rating: int | None = Field(
        default=None, ge=1, le=5, description="The customer's rating, 1 (poor) to 5 (excellent)"
    )
    rating_comment: str | None = Field(default=None, description="The customer's comment")
    rated_at: datetime | None = Field(default=None, description="When the customer rated it")
    sla_at_risk: bool = Field(
        description="Open, and within the at-risk margin of a deadline not yet met"
    )
    version: int = Field(description="Stream version: send it back in If-Match to edit safely")
    updated_at: datetime


class PreviousJob(BaseModel):
    """An earlier job the field finished at the same site or on the same asset."""

    model_config = ConfigDict(extra="forbid")

    work_order_id: str
    job_type: str | None
    description: str
    asset_id: str | None
    status: str
    outcome: str | None
    completed_at: datetime | None
    technician_id: str | None
    first_time_fix: bool | None
    follow_up_needed: bool | None


class HistoryEntry(BaseModel):
    """One event of the work order's own stream."""

    model_config = ConfigDict(extra="forbid")

    version: int
    event_type: str
    occurred_at: datetime
    event_id: str


class WorkOrderDetailView(WorkOrderView):
    """A work order with its job details, its history and the site's and asset's past jobs."""

    model_config = _view_examples(
        {
            **_VIEW_EXAMPLE,
            "details": _DETAILS_EXAMPLE,
            "details_are_draft": False,
            "approval_needed": [],
            "attachments": [],
            "history": [
                {
                    "version": 1,
                    "event_type": "RequestLogged",
                    "occurred_at": T_LOGGED,
                    "event_id": "6c1b6f3e-9a0e-4a4e-8a57-2f1c5b3e9d10",
                },
                {
                    "version": 2,
                    "event_type": "WorkOrderReleased",
                    "occurred_at": "2026-11-23T09:05:00Z",
                    "event_id": "0b7f5a8e-3c0e-4f57-9f0c-5d9e4c1a2b33",
                },
            ],
            "site_history": [
                {
                    "work_order_id": "wo-1b0f",
                    "job_type": "boiler_service",
                    "description": "Annual boiler service",
                    "asset_id": "asset-dd-boiler",
                    "status": "completed",
                    "outcome": "completed",
                    "completed_at": "2026-03-02T11:40:00Z",
                    "technician_id": "tech-amir",
                    "first_time_fix": True,
                    "follow_up_needed": False,
                }
            ],
            "asset_history": [],
        }
    )

    details: WorkOrderDetails | None = Field(
        description="The job details: as released (or amended), else the draft, else the job "
        "type's template applied to the request; null while no job type is chosen."
    )
    details_are_draft: bool
    approval_needed: list[str] = Field(
        description="Why release needs approval (empty: it does not)"
    )
    attachments: list[AttachmentRef]
    history: list[HistoryEntry]
    site_history: list[PreviousJob]
    asset_history: list[PreviousJob]


class ChangeDetailsBody(BaseModel):
    """Job details to set.

    Before release this edits the draft; after, it amends the released work order (dispatch
    and the technician's device get the whole new details). Changing ``job_type`` re-applies
    that template for anything not given alongside.
    """

    model_config = _examples(
        {
            "estimated_duration_minutes": 150,
            "parts": [
                {
                    "sku": "PCB-WB-8748300",
                    "description": "Boiler control PCB",
                    "quantity_milli": 1000,
                    "unit": "each",
                }
            ],
            "access_instructions": "Key safe by the side gate, code from Priya",
            "reason": "Customer reports the PCB was flagged at the last service",
        }
    )

    job_type: Identifier | None = None
    description: Description | None = None
    required_skills: tuple[SkillName, ...] | None = None
    required_certifications: tuple[SkillName, ...] | None = None
    estimated_duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)] | None = None
    parts: tuple[PartSpec, ...] | None = None
    safety_requirements: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] | None = (
        None
    )
    access_instructions: Annotated[str, Field(max_length=2000)] | None = None
    checklist: ChecklistTemplate | None = None
    time_window: TimeWindow | None = None
    contact_id: Identifier | None = None
    asset_id: Identifier | None = None
    estimated_value_minor: Annotated[int, Field(ge=0)] | None = None
    reason: Annotated[str, Field(max_length=2000)] = ""

    def changes(self) -> dict[str, Any]:
        """The fields the caller set (explicit nulls included), without the reason."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "reason"}


class ChangePriorityBody(BaseModel):
    """A new priority; the SLA deadlines are recomputed from when the request was logged."""

    model_config = _examples({"priority": "P1", "reason": "Surgery closed until heating restored"})

    priority: Priority
    reason: Reason


class ApprovalRequestBody(BaseModel):
    """Ask for approval; ``note`` explains a request the rules do not require."""

    model_config = _examples({"note": ""})

    note: Annotated[str, Field(max_length=500)] = ""


class ApproveBody(BaseModel):
    """Approve, with an optional note."""

    model_config = _examples({"note": "Within the quoted budget"})

    note: Annotated[str, Field(max_length=2000)] = ""


class RejectBody(BaseModel):
    """Reject, saying why."""

    model_config = _examples({"reason": "Customer has not accepted the quotation"})

    reason: Reason


class CancelBody(BaseModel):
    """Cancel, saying why."""

    model_config = _examples({"reason": "Customer fixed it themselves"})

    reason: Reason


class LinkDuplicateBody(BaseModel):
    """The request this one duplicates."""

    model_config = _examples({"duplicate_of": "wo-3f0c6c1e-8f5a-4f0e-9a53-0c7d1f0f5b1a"})

    duplicate_of: Identifier


class RateVisitBody(BaseModel):
    """How the visit went, 1 (poor) to 5 (excellent), with an optional comment."""

    model_config = _examples({"score": 5, "comment": "Arrived on time and explained the fault"})

    score: Annotated[int, Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")]
    comment: Annotated[str, Field(max_length=2000)] = ""


class ReleaseBody(BaseModel):
    """Release for scheduling (no fields: the details are what the work order holds)."""

    model_config = _examples({})


# -- inbound email ----------------------------------------------------------------------


class InboundEmailView(BaseModel):
    """An inbound email and what became of it."""

    model_config = _view_examples(
        {
            "email_id": "em-8e3f1c2a-7d4b-5e6f-8a9b-0c1d2e3f4a5b",
            "message_id": "<CAF=abc123@mail.example>",
            "sender": "priya@deansgatedental.example",
            "sender_name": "Priya Shah",
            "subject": "Boiler fault again",
            "body": "The boiler shows F28 again this morning. Photo attached.",
            "status": "logged",
            "triage_reason": None,
            "customer_id": "cust-deansgate-dental",
            "work_order_id": "wo-5a1d2c3b-4e5f-5a6b-8c7d-9e0f1a2b3c4d",
            "attachments": [
                {
                    "key": "intake/email/em-8e3f1c2a-7d4b-5e6f-8a9b-0c1d2e3f4a5b/01-boiler.jpg",
                    "filename": "boiler.jpg",
                    "content_type": "image/jpeg",
                    "size_bytes": 48213,
                    "sha256": "9f" * 32,
                }
            ],
            "received_at": T_LOGGED,
            "handled_by": None,
            "handled_at": None,
        }
    )

    email_id: str
    message_id: str
    sender: str
    sender_name: str
    subject: str
    body: str
    status: str = Field(description="logged, triage, assigned or dismissed")
    triage_reason: str | None
    customer_id: str | None
    work_order_id: str | None
    attachments: list[AttachmentRef]
    received_at: datetime
    handled_by: str | None
    handled_at: datetime | None


class AssignEmailBody(BaseModel):
    """Turn a triaged email into a request for this customer and site."""

    model_config = _examples(
        {
            "customer_id": "cust-deansgate-dental",
            "site_id": "site-deansgate-dental",
            "priority": "P2",
            "job_type": "boiler_repair",
        }
    )

    customer_id: Identifier
    site_id: Identifier
    asset_id: Identifier | None = None
    priority: Priority | None = None
    job_type: Identifier | None = None


class DismissEmailBody(BaseModel):
    """Close a triaged email that is no request; it stays on record."""

    model_config = _examples({"reason": "Newsletter, not a service request"})

    reason: Reason


# -- planned maintenance ----------------------------------------------------------------


class PlanBody(BaseModel):
    """A maintenance plan for an asset (or a whole site): every N months, or an RFC 5545 RRULE.

    A rule such as ``FREQ=YEARLY;BYMONTH=3,9;BYDAY=1MO`` (first Monday of March and September).
    """

    model_config = _examples(
        {
            "plan_id": "plan-dd-boiler-annual",
            "site_id": "site-deansgate-dental",
            "asset_id": "asset-dd-boiler",
            "job_type": "boiler_service",
            "description": "Annual boiler service and gas safety record",
            "priority": "P4",
            "starts_on": "2027-03-01",
            "every_months": 12,
            "lead_days": 14,
        }
    )

    plan_id: Identifier | None = None
    site_id: Identifier
    asset_id: Identifier | None = None
    job_type: Identifier
    description: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    priority: Priority = Priority.P4
    starts_on: date
    every_months: Annotated[int, Field(ge=1, le=120)] | None = None
    rule: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    lead_days: Annotated[int, Field(ge=0, le=365)] | None = None


class PlanView(BaseModel):
    """A maintenance plan and where it stands."""

    model_config = _view_examples(
        {
            "plan_id": "plan-dd-boiler-annual",
            "customer_id": "cust-deansgate-dental",
            "site_id": "site-deansgate-dental",
            "asset_id": "asset-dd-boiler",
            "job_type": "boiler_service",
            "description": "Annual boiler service and gas safety record",
            "priority": "P4",
            "starts_on": "2027-03-01",
            "every_months": 12,
            "rule": None,
            "lead_days": 14,
            "next_due_on": "2027-03-01",
            "next_due_source": "recurrence",
            "active": True,
            "last_raised_due_on": None,
            "last_work_order_id": None,
            "created_at": T_LOGGED,
        }
    )

    plan_id: str
    customer_id: str
    site_id: str
    asset_id: str | None
    job_type: str
    description: str
    priority: Priority
    starts_on: date
    every_months: int | None
    rule: str | None
    lead_days: int
    next_due_on: date | None
    next_due_source: str
    active: bool
    last_raised_due_on: date | None
    last_work_order_id: str | None
    created_at: datetime


class RaiseDueBody(BaseModel):
    """Raise requests for every plan occurrence due by ``as_of`` (default: today, UTC)."""

    model_config = _examples({"as_of": "2027-02-20"})

    as_of: date | None = None


class RaisedView(BaseModel):
    """One occurrence handled: ``created`` is false when an earlier run had raised it."""

    model_config = _view_examples(
        {
            "plan_id": "plan-dd-boiler-annual",
            "due_on": "2027-03-01",
            "work_order_id": "wo-0d1e2f3a-4b5c-5d6e-8f7a-9b0c1d2e3f4a",
            "created": True,
        }
    )

    plan_id: str
    due_on: date
    work_order_id: str
    created: bool
