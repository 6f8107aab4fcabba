"""Pricing configuration documents: rate card, price book entries and contract terms.

Each is stored as immutable versions with an ``effective_from`` time (docs/adr/0041); a job
is priced with the versions in force at its trigger's time, so a later change never alters
how an earlier job is (re)priced.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobstream.billing.domain.money import BASIS_POINTS
from jobstream.contracts.common import Priority
from jobstream.contracts.field import IncompleteReason

Minor = Annotated[int, Field(ge=0, le=10**9)]
BasisPoints = Annotated[int, Field(ge=0, le=100_000)]
TaxRate = Annotated[int, Field(ge=0, le=10_000)]


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BusinessHours(_Document):
    """When normal rates apply, in the site's local time (0 = Monday)."""

    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = (0, 1, 2, 3, 4)
    start: time = time(8, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        return self


class RateCard(_Document):
    """Labour, call-out, surcharges, minimum charge, default tax and default terms."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"
    labour_rate_per_hour_by_level: dict[Annotated[int, Field(ge=1, le=5)], Minor]
    default_skill_level: Annotated[int, Field(ge=1, le=5)] = 3
    labour_increment_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    call_out_fee_by_priority: dict[Priority, Minor]
    business_hours: BusinessHours = BusinessHours()
    out_of_hours_multiplier_bp: BasisPoints = 15_000
    overtime_multiplier_bp: BasisPoints = 12_500
    minimum_charge_net_minor: Minor = 0
    tax_rate_bp: TaxRate = 2_000
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] = 30
    charge_incomplete_reasons: tuple[IncompleteReason, ...] = (
        IncompleteReason.NO_ACCESS,
        IncompleteReason.CUSTOMER_CANCELLED,
    )
    bought_in_markup_bp: BasisPoints = 2_500

    @model_validator(mode="after")
    def _complete(self) -> RateCard:
        missing_levels = set(range(1, 6)) - set(self.labour_rate_per_hour_by_level)
        if missing_levels:
            raise ValueError(f"labour_rate_per_hour_by_level lacks levels {sorted(missing_levels)}")
        missing = set(Priority) - set(self.call_out_fee_by_priority)
        if missing:
            raise ValueError(f"call_out_fee_by_priority lacks {sorted(p.value for p in missing)}")
        if not BASIS_POINTS <= self.overtime_multiplier_bp <= self.out_of_hours_multiplier_bp:
            raise ValueError("multipliers must satisfy 1.0 <= overtime <= out of hours")
        return self

    def labour_rate(self, level: int) -> int:
        """Hourly rate of a skill level."""
        return self.labour_rate_per_hour_by_level[level]


class ItemPricing(StrEnum):
    """How a price book entry is priced."""

    FIXED = "fixed"
    COST_PLUS = "cost_plus"


class PriceBookEntry(_Document):
    """A part's price: fixed, or its cost plus a markup; optionally its own tax rate."""

    description: Annotated[str, Field(min_length=1, max_length=500)]
    pricing: ItemPricing
    unit_price_minor: Minor | None = None
    unit_cost_minor: Minor | None = None
    markup_bp: BasisPoints | None = None
    tax_rate_bp: TaxRate | None = None

    @model_validator(mode="after")
    def _priced(self) -> PriceBookEntry:
        if self.pricing is ItemPricing.FIXED and self.unit_price_minor is None:
            raise ValueError("a fixed-price entry needs unit_price_minor")
        if self.pricing is ItemPricing.COST_PLUS and self.markup_bp is None:
            raise ValueError("a cost-plus entry needs markup_bp")
        return self


class FixedPrice(_Document):
    """A job type done for an agreed net price."""

    net_minor: Minor
    includes_parts: bool = False


class ContractTerms(_Document):
    """A customer contract: what it includes and how it is paid."""

    customer_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    call_out_included: bool = False
    included_labour_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 0
    fixed_price_jobs: dict[str, FixedPrice] = Field(default_factory=dict)
    charge_incomplete_reasons: tuple[IncompleteReason, ...] | None = None


DEFAULT_RATE_CARD: dict[str, Any] = {
    "currency": "GBP",
    # Level 1 apprentice … 5 specialist: the grade of the engineer who did the work.
    "labour_rate_per_hour_by_level": {"1": 4_500, "2": 5_500, "3": 6_500, "4": 7_500, "5": 9_000},
    "default_skill_level": 3,
    "labour_increment_minutes": 15,
    "call_out_fee_by_priority": {"P1": 12_000, "P2": 8_000, "P3": 5_000, "P4": 0},
    "business_hours": {"weekdays": [0, 1, 2, 3, 4], "start": "08:00:00", "end": "18:00:00"},
    "out_of_hours_multiplier_bp": 15_000,
    "overtime_multiplier_bp": 12_500,
    "minimum_charge_net_minor": 9_500,
    "tax_rate_bp": 2_000,
    "payment_terms_days": 30,
    "charge_incomplete_reasons": ["no_access", "customer_cancelled"],
    "bought_in_markup_bp": 2_500,
}
"""Version 1 of the rate card, seeded by migration 0001 (a copy lives there, frozen)."""
