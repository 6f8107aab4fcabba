"""Pure test data for pricing: a job's facts and the default configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobstream.billing.domain.config import (
    DEFAULT_RATE_CARD,
    ContractTerms,
    PriceBookEntry,
    RateCard,
)
from jobstream.billing.domain.pricing import (
    JobFacts,
    LabourEntry,
    MaterialEntry,
    Outcome,
    PricingConfig,
    Technician,
    Trigger,
    Versioned,
)
from jobstream.contracts.common import GeoPoint, Priority, SiteAddress, SkillLevel, WorkOrderDetails
from jobstream.contracts.dispatch import Shift, TechnicianProfile
from jobstream.contracts.field import IncompleteReason, MaterialSource

# A Tuesday, 10:00 in London (GMT in November).
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CARD = RateCard.model_validate(DEFAULT_RATE_CARD)


def details(**changes: Any) -> WorkOrderDetails:
    values: dict[str, Any] = {
        "customer_id": "cust-1",
        "customer_name": "Deansgate Dental",
        "site": SiteAddress(
            site_id="site-1", address="14 Deansgate", location=GeoPoint(lat=53.48, lon=-2.25)
        ),
        "job_type": "boiler_service",
        "description": "Boiler locked out",
        "priority": Priority.P2,
        "required_skills": ("gas_boiler",),
        "estimated_duration_minutes": 90,
        "respond_by": TUESDAY_10,
        "resolve_by": TUESDAY_10 + timedelta(days=1),
    }
    values.update(changes)
    return WorkOrderDetails(**values)


def technician(
    technician_id: str = "tech-1", level: int = 4, shifts: tuple[Shift, ...] = ()
) -> Technician:
    return Technician(
        f"reg-{technician_id}",
        TechnicianProfile(
            name=f"Tech {technician_id}",
            skills=(SkillLevel(name="gas_boiler", level=level),),
            home_base=GeoPoint(lat=53.48, lon=-2.25),
            shifts=shifts,
        ),
    )


def labour(
    minutes: int,
    *,
    start: datetime | None = None,
    technician_id: str = "tech-1",
    event_id: str | None = None,
) -> LabourEntry:
    end = start + timedelta(minutes=minutes) if start else None
    return LabourEntry(event_id or f"time-{minutes}-{start}", technician_id, minutes, start, end)


def material(
    sku: str = "VALVE-15",
    quantity_milli: int = 1000,
    *,
    source: MaterialSource = MaterialSource.VAN_STOCK,
    unit_cost_minor: int | None = None,
    entry_id: str = "m1",
) -> MaterialEntry:
    return MaterialEntry(
        event_id=f"mat-{entry_id}",
        entry_id=entry_id,
        sku=sku,
        description=f"Part {sku}",
        quantity_milli=quantity_milli,
        unit="each",
        source=source,
        unit_cost_minor=unit_cost_minor,
        currency="GBP",
    )


def facts(
    *,
    labour_entries: tuple[LabourEntry, ...] = (),
    materials: tuple[MaterialEntry, ...] = (),
    labour_minutes: int | None = None,
    incomplete: IncompleteReason | None = None,
    technicians: tuple[Technician, ...] | None = None,
    **detail_changes: Any,
) -> JobFacts:
    at = TUESDAY_10 + timedelta(hours=2)
    minutes = (
        labour_minutes if labour_minutes is not None else sum(e.minutes for e in labour_entries)
    )
    kind = "JobIncomplete" if incomplete else "JobCompleted"
    techs = technicians or (technician(),)
    return JobFacts(
        work_order_id="wo-1",
        details_event_id="released-1",
        details=details(**detail_changes),
        outcome=Outcome("outcome-1", kind, "tech-1", at, minutes, incomplete),
        trigger=Trigger("outcome-1", kind, at),
        labour=labour_entries,
        materials=materials,
        technicians={t.profile.name.removeprefix("Tech "): t for t in techs},
    )


def config(
    card: RateCard = CARD,
    contract: ContractTerms | None = None,
    book: dict[str, PriceBookEntry] | None = None,
) -> PricingConfig:
    entries = (
        book
        if book is not None
        else {
            "VALVE-15": PriceBookEntry(
                description="15 mm isolating valve", pricing="fixed", unit_price_minor=1250
            )
        }
    )
    return PricingConfig(
        rate_card=Versioned(1, card),
        contract=Versioned(1, contract) if contract else None,
        price_book={sku: Versioned(1, e) for sku, e in entries.items()},
    )
