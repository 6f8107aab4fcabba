"""Event builders for tests: one coherent job story with fresh ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, InvoiceLine, LineKind
from jobstream.contracts.common import (
    AssetInfo,
    Certification,
    Channel,
    GeoPoint,
    Priority,
    SiteAddress,
    SkillLevel,
    WorkOrderDetails,
)
from jobstream.contracts.dispatch import (
    JobDispatched,
    JobPack,
    JobScheduled,
    Shift,
    TechnicianAbsenceRecorded,
    TechnicianProfile,
    TechnicianRegistered,
)
from jobstream.contracts.field import (
    IncompleteReason,
    JobCompleted,
    JobIncomplete,
    JobStarted,
    MaterialSource,
    MaterialUsageCorrected,
    MaterialUsed,
    TechnicianArrived,
    TimeKind,
    TimeLogged,
)
from jobstream.contracts.intake import (
    RequestLogged,
    RequestPriorityChanged,
    WorkOrderCancelled,
    WorkOrderReleased,
)
from jobstream.messaging.envelope import Envelope

MANCHESTER = GeoPoint(lat=53.4808, lon=-2.2426)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class JobStory:
    """One job's events in lifecycle order, for a fresh work order id."""

    work_order_id: str = field(default_factory=lambda: f"wo-{uuid.uuid4().hex[:12]}")
    customer_id: str = "cust-test"
    technician_id: str = "tech-gas"
    priority: Priority = Priority.P2
    job_type: str = "boiler_service"
    skills: tuple[str, ...] = ("gas_boiler",)
    certifications: tuple[str, ...] = ("gas_safe",)
    start: datetime = T0
    # Optional detail for reporting's scenarios; the defaults keep the stories above as they were.
    site_id: str | None = None
    asset_id: str | None = None
    respond_within: timedelta = timedelta(hours=4)
    resolve_within: timedelta = timedelta(hours=24)
    channel: Channel = Channel.PHONE

    @property
    def site(self) -> SiteAddress:
        """The job's site in Manchester (``site_id``, else one named after the customer)."""
        return SiteAddress(
            site_id=self.site_id or f"site-{self.customer_id}",
            address="1 Deansgate",
            location=MANCHESTER,
        )

    @property
    def asset(self) -> AssetInfo | None:
        """The boiler at the site when the story has an ``asset_id``, else None."""
        return AssetInfo(asset_id=self.asset_id, asset_type="boiler") if self.asset_id else None

    def request_logged(self) -> RequestLogged:
        """The request, logged by the office at ``start`` with its response deadlines."""
        return RequestLogged(
            work_order_id=self.work_order_id,
            customer_id=self.customer_id,
            site=self.site,
            asset=self.asset,
            channel=self.channel,
            description="No heating",
            priority=self.priority,
            logged_at=self.start,
            logged_by="office",
            respond_by=self.start + self.respond_within,
            resolve_by=self.start + self.resolve_within,
        )

    def details(self) -> WorkOrderDetails:
        """The work order's details: the job, its requirements, a 90-minute estimate."""
        return WorkOrderDetails(
            customer_id=self.customer_id,
            site=self.site,
            asset=self.asset,
            job_type=self.job_type,
            description="No heating",
            priority=self.priority,
            required_skills=self.skills,
            required_certifications=self.certifications,
            estimated_duration_minutes=90,
            respond_by=self.start + self.respond_within,
            resolve_by=self.start + self.resolve_within,
        )

    def released(self) -> WorkOrderReleased:
        """The work order released to dispatch five minutes after ``start``."""
        return WorkOrderReleased(
            work_order_id=self.work_order_id,
            details=self.details(),
            released_by="office",
            released_at=self.start + timedelta(minutes=5),
        )

    def technician_registered(self) -> TechnicianRegistered:
        """The story's technician, qualified for the job, registered 30 days before ``start``."""
        return TechnicianRegistered(
            technician_id=self.technician_id,
            profile=TechnicianProfile(
                name=f"Technician {self.technician_id}",
                skills=tuple(SkillLevel(name=s) for s in self.skills),
                certifications=tuple(
                    Certification(name=c, expires_on=(self.start + timedelta(days=365)).date())
                    for c in self.certifications
                ),
                home_base=MANCHESTER,
            ),
            registered_at=self.start - timedelta(days=30),
        )

    def scheduled(self) -> JobScheduled:
        """The job scheduled for the technician in a 90-minute window an hour after ``start``."""
        begin = self.start + timedelta(hours=1)
        return JobScheduled(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            window_start=begin,
            window_end=begin + timedelta(minutes=90),
            eta=begin,
            travel_minutes=20,
            reasons=("qualified",),
            scheduled_at=self.start + timedelta(minutes=6),
        )

    def dispatched(self) -> JobDispatched:
        """The job pack sent to the technician for the scheduled window."""
        begin = self.start + timedelta(hours=1)
        return JobDispatched(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            job_pack=JobPack(
                details=self.details(),
                window_start=begin,
                window_end=begin + timedelta(minutes=90),
            ),
            dispatched_at=self.start + timedelta(minutes=6),
        )

    def time_logged(
        self, minutes: int = 75, kind: TimeKind = TimeKind.LABOUR, entry: str = "t1"
    ) -> TimeLogged:
        """A time entry of ``minutes`` logged on the device two hours after ``start``."""
        at = self.start + timedelta(hours=2)
        return TimeLogged(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            action_id=f"{self.work_order_id}-{entry}",
            device_time=at,
            received_at=at,
            entry_id=f"{self.work_order_id}-{entry}",
            kind=kind,
            minutes=minutes,
        )

    def material_used(
        self, sku: str = "VALVE-15", quantity_milli: int = 1000, entry: str = "m1"
    ) -> MaterialUsed:
        """A part from the van's stock used two and a half hours after ``start``."""
        at = self.start + timedelta(hours=2, minutes=30)
        return MaterialUsed(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            action_id=f"{self.work_order_id}-{entry}",
            device_time=at,
            received_at=at,
            entry_id=f"{self.work_order_id}-{entry}",
            sku=sku,
            description=f"Part {sku}",
            quantity_milli=quantity_milli,
            source=MaterialSource.VAN_STOCK,
        )

    def completed(self, labour_minutes: int = 75) -> JobCompleted:
        """The job completed and fixed first time, three hours after ``start``."""
        at = self.start + timedelta(hours=3)
        return JobCompleted(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            customer_id=self.customer_id,
            site_id=self.site.site_id,
            job_type=self.job_type,
            priority=self.priority,
            completed_at=at,
            labour_minutes=labour_minutes,
            work_done="Repaired",
            first_time_fix=True,
        )

    def invoiced(self) -> InvoiceIssued:
        """The job's invoice: one call-out line, £80 net plus 20% tax."""
        line = InvoiceLine(
            kind=LineKind.CALL_OUT,
            description="Call-out",
            quantity_milli=1000,
            unit_price_minor=8000,
            net_minor=8000,
            tax_rate_basis_points=2000,
            tax_minor=1600,
        )
        return InvoiceIssued(
            work_order_id=self.work_order_id,
            invoice_id=f"inv-{self.work_order_id}",
            invoice_number="INV-000001",
            customer_id=self.customer_id,
            currency="GBP",
            lines=(line,),
            net_total_minor=8000,
            tax_total_minor=1600,
            gross_total_minor=9600,
            issued_at=self.start + timedelta(hours=3),
            due_on=(self.start + timedelta(days=30)).date(),
        )

    def lifecycle(self) -> list[Event]:
        """The story's six events, from the request logged to the invoice issued."""
        return [
            self.request_logged(),
            self.released(),
            self.scheduled(),
            self.dispatched(),
            self.completed(),
            self.invoiced(),
        ]

    # -- more of the lifecycle, each at a chosen time (for reporting's scenarios) --------

    def scheduled_at(self, at: datetime, technician_id: str | None = None) -> JobScheduled:
        """The job scheduled at ``at`` for a 90-minute window starting then."""
        tech = technician_id or self.technician_id
        return JobScheduled(
            work_order_id=self.work_order_id,
            technician_id=tech,
            window_start=at,
            window_end=at + timedelta(minutes=90),
            eta=at,
            travel_minutes=20,
            reasons=("qualified",),
            scheduled_at=at,
        )

    def arrived(self, at: datetime, technician_id: str | None = None) -> TechnicianArrived:
        """The technician (the story's, unless given) arrived on site at ``at``."""
        return TechnicianArrived(
            work_order_id=self.work_order_id,
            technician_id=technician_id or self.technician_id,
            device_time=at,
            received_at=at,
        )

    def started(self, at: datetime) -> JobStarted:
        """The technician started work at ``at``."""
        return JobStarted(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
        )

    def labour_logged(self, at: datetime, minutes: int, entry: str = "t1") -> TimeLogged:
        """Labour of ``minutes`` starting at ``at``, as time entry ``entry``."""
        return TimeLogged(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            entry_id=f"{self.work_order_id}-{entry}",
            kind=TimeKind.LABOUR,
            started_at=at,
            ended_at=at + timedelta(minutes=minutes),
            minutes=minutes,
        )

    def material_used_at(
        self, at: datetime, sku: str, quantity_milli: int, entry: str = "m1"
    ) -> MaterialUsed:
        """``quantity_milli`` thousandths of part ``sku`` used at ``at``, as entry ``entry``."""
        return MaterialUsed(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            entry_id=f"{self.work_order_id}-{entry}",
            sku=sku,
            description=f"Part {sku}",
            quantity_milli=quantity_milli,
        )

    def material_corrected(
        self, at: datetime, quantity_milli: int, entry: str = "m1"
    ) -> MaterialUsageCorrected:
        """The office corrected material entry ``entry`` to ``quantity_milli`` at ``at``."""
        return MaterialUsageCorrected(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            entry_id=f"{self.work_order_id}-{entry}",
            quantity_milli=quantity_milli,
            reason="Counted again",
            corrected_by="office",
            corrected_at=at,
        )

    def incomplete(self, at: datetime, labour_minutes: int = 0) -> JobIncomplete:
        """The visit ended at ``at`` without finishing the job: parts were unavailable."""
        return JobIncomplete(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            customer_id=self.customer_id,
            site_id=self.site.site_id,
            asset_id=self.asset_id,
            job_type=self.job_type,
            priority=self.priority,
            ended_at=at,
            reason=IncompleteReason.PARTS_UNAVAILABLE,
            labour_minutes=labour_minutes,
        )

    def completed_at(
        self, at: datetime, labour_minutes: int = 60, first_time_fix: bool = True
    ) -> JobCompleted:
        """The job completed at ``at``; not fixed first time means a follow-up is needed."""
        return JobCompleted(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            customer_id=self.customer_id,
            site_id=self.site.site_id,
            asset_id=self.asset_id,
            job_type=self.job_type,
            priority=self.priority,
            completed_at=at,
            labour_minutes=labour_minutes,
            work_done="Repaired",
            first_time_fix=first_time_fix,
            follow_up_needed=not first_time_fix,
        )

    def priority_changed(
        self, at: datetime, priority: Priority, respond_by: datetime, resolve_by: datetime
    ) -> RequestPriorityChanged:
        """The office changed the request's priority and deadlines at ``at``."""
        return RequestPriorityChanged(
            work_order_id=self.work_order_id,
            priority=priority,
            previous_priority=self.priority,
            respond_by=respond_by,
            resolve_by=resolve_by,
            reason="Customer is vulnerable",
            changed_by="office",
            changed_at=at,
        )

    def cancelled(self, at: datetime) -> WorkOrderCancelled:
        """The office cancelled the work order at ``at``."""
        return WorkOrderCancelled(
            work_order_id=self.work_order_id,
            reason="Customer fixed it",
            cancelled_by="office",
            cancelled_at=at,
        )

    def invoiced_at(
        self, at: datetime, net_minor: int, technician_id: str | None = None, number: int = 1
    ) -> InvoiceIssued:
        """An invoice issued at ``at`` with one labour line of ``net_minor`` plus 20% tax."""
        line = InvoiceLine(
            kind=LineKind.LABOUR,
            description="Labour",
            quantity_milli=1000,
            unit_price_minor=net_minor,
            net_minor=net_minor,
            tax_rate_basis_points=2000,
            tax_minor=net_minor // 5,
        )
        return InvoiceIssued(
            work_order_id=self.work_order_id,
            invoice_id=f"inv-{self.work_order_id}",
            invoice_number=f"INV-{number:06d}",
            customer_id=self.customer_id,
            technician_id=technician_id,
            currency="GBP",
            lines=(line,),
            net_total_minor=net_minor,
            tax_total_minor=net_minor // 5,
            gross_total_minor=net_minor + net_minor // 5,
            issued_at=at,
            due_on=(at + timedelta(days=30)).date(),
        )

    def credited_at(self, at: datetime, net_minor: int, number: int = 1) -> CreditNoteIssued:
        """A goodwill credit note on the job's invoice, ``net_minor`` plus 20% tax, at ``at``."""
        line = InvoiceLine(
            kind=LineKind.ADJUSTMENT,
            description="Goodwill",
            quantity_milli=1000,
            unit_price_minor=net_minor,
            net_minor=net_minor,
            tax_rate_basis_points=2000,
            tax_minor=net_minor // 5,
        )
        return CreditNoteIssued(
            work_order_id=self.work_order_id,
            credit_note_id=f"crn-{self.work_order_id}-{number}",
            credit_note_number=f"CRN-{number:06d}",
            invoice_id=f"inv-{self.work_order_id}",
            customer_id=self.customer_id,
            currency="GBP",
            lines=(line,),
            net_total_minor=net_minor,
            tax_total_minor=net_minor // 5,
            gross_total_minor=net_minor + net_minor // 5,
            reason="Goodwill",
            issued_at=at,
        )


def technician_with_shifts(
    technician_id: str,
    shifts: list[tuple[int, str, str]],
    registered_at: datetime,
    time_zone: str = "Europe/London",
) -> TechnicianRegistered:
    """A technician with weekly shifts given as (weekday, "HH:MM", "HH:MM") in local time."""
    return TechnicianRegistered(
        technician_id=technician_id,
        profile=TechnicianProfile(
            name=f"Technician {technician_id}",
            skills=(SkillLevel(name="gas_boiler"),),
            home_base=MANCHESTER,
            time_zone=time_zone,
            shifts=tuple(
                Shift(weekday=d, start=time.fromisoformat(a), end=time.fromisoformat(b))
                for d, a, b in shifts
            ),
        ),
        registered_at=registered_at,
    )


def absence(
    technician_id: str, absence_id: str, starts_at: datetime, ends_at: datetime
) -> TechnicianAbsenceRecorded:
    """A recorded absence (leave, sickness, training)."""
    return TechnicianAbsenceRecorded(
        technician_id=technician_id,
        absence_id=absence_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason="Annual leave",
        recorded_by="office",
        recorded_at=starts_at - timedelta(days=7),
    )


_BUSINESS_TIME_FIELDS = (
    "logged_at",
    "changed_at",
    "released_at",
    "amended_at",
    "cancelled_at",
    "registered_at",
    "recorded_at",
    "updated_at",
    "scheduled_at",
    "rescheduled_at",
    "dispatched_at",
    "completed_at",
    "ended_at",
    "corrected_at",
    "reopened_at",
    "device_time",
    "issued_at",
    "paid_at",
    "rated_at",
)


def business_time(event: Event) -> datetime:
    """When the event happened in the business, from its own fields."""
    for name in _BUSINESS_TIME_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    raise ValueError(f"{event.event_type} has no business time field")


def envelopes_at_business_time(
    events: list[Event], source: str = "jobstream/test"
) -> list[Envelope]:
    """Like ``envelopes``, but each stamped (``ce_time``) with its business time."""
    sequences: dict[str, int] = {}
    out = []
    for event in events:
        sequences[event.subject] = sequences.get(event.subject, 0) + 1
        out.append(
            Envelope.new(
                event,
                source=source,
                sequence=sequences[event.subject],
                time=business_time(event),
            )
        )
    return out


def envelopes(events: list[Event], source: str = "jobstream/test") -> list[Envelope]:
    """Wrap events as they would arrive from their owners, with stream sequences."""
    sequences: dict[str, int] = {}
    out = []
    for event in events:
        sequences[event.subject] = sequences.get(event.subject, 0) + 1
        out.append(Envelope.new(event, source=source, sequence=sequences[event.subject]))
    return out


async def rows_of(
    conn: AsyncConnection, table: Table, *, exclude: tuple[str, ...] = (), order_by: str
) -> list[dict[str, Any]]:
    """A table's rows as dicts without the excluded columns (timestamps, positions)."""
    columns = [c for c in table.c if c.name not in exclude]
    result = await conn.execute(select(*columns).order_by(table.c[order_by]))
    return [dict(r._mapping) for r in result]
