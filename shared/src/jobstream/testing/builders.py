"""Event builders for tests: one coherent job story with fresh ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.billing import InvoiceIssued, InvoiceLine, LineKind
from jobstream.contracts.common import (
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
    TechnicianProfile,
    TechnicianRegistered,
)
from jobstream.contracts.field import (
    JobCompleted,
    MaterialSource,
    MaterialUsed,
    TimeKind,
    TimeLogged,
)
from jobstream.contracts.intake import RequestLogged, WorkOrderReleased
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

    @property
    def site(self) -> SiteAddress:
        return SiteAddress(
            site_id=f"site-{self.customer_id}", address="1 Deansgate", location=MANCHESTER
        )

    def request_logged(self) -> RequestLogged:
        return RequestLogged(
            work_order_id=self.work_order_id,
            customer_id=self.customer_id,
            site=self.site,
            channel=Channel.PHONE,
            description="No heating",
            priority=self.priority,
            logged_at=self.start,
            logged_by="office",
            respond_by=self.start + timedelta(hours=4),
            resolve_by=self.start + timedelta(hours=24),
        )

    def details(self) -> WorkOrderDetails:
        return WorkOrderDetails(
            customer_id=self.customer_id,
            site=self.site,
            job_type=self.job_type,
            description="No heating",
            priority=self.priority,
            required_skills=self.skills,
            required_certifications=self.certifications,
            estimated_duration_minutes=90,
            respond_by=self.start + timedelta(hours=4),
            resolve_by=self.start + timedelta(hours=24),
        )

    def released(self) -> WorkOrderReleased:
        return WorkOrderReleased(
            work_order_id=self.work_order_id,
            details=self.details(),
            released_by="office",
            released_at=self.start + timedelta(minutes=5),
        )

    def technician_registered(self) -> TechnicianRegistered:
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
        return [
            self.request_logged(),
            self.released(),
            self.scheduled(),
            self.dispatched(),
            self.completed(),
            self.invoiced(),
        ]


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
