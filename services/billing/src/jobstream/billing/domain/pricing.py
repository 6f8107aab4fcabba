"""Price one job from its events and the pricing versions in force: pure and deterministic.

Lines: call-out by priority (or a contract's fixed price), labour per technician and rate
band from the time logged, one line per material used (after corrections), a minimum charge
top-up. Every line names the events it was priced from (docs/adr/0040).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from jobstream.billing.domain.config import (
    ContractTerms,
    ItemPricing,
    PriceBookEntry,
    RateCard,
)
from jobstream.billing.domain.labour import Band, band_minutes
from jobstream.billing.domain.money import (
    MILLI,
    apply_basis_points,
    minutes_to_hours_milli,
    priced_line,
    totals,
)
from jobstream.contracts.billing import InvoiceLine, LineKind, PricingBasis
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import TechnicianProfile
from jobstream.contracts.field import IncompleteReason, MaterialSource


@dataclass(frozen=True)
class LabourEntry:
    """A labour TimeLogged event."""

    event_id: str
    technician_id: str
    minutes: int
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class MaterialEntry:
    """A MaterialUsed event with the corrections made to it since."""

    event_id: str
    entry_id: str
    sku: str
    description: str
    quantity_milli: int
    unit: str
    source: MaterialSource
    unit_cost_minor: int | None
    currency: str
    correction_event_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """How the visit ended: JobCompleted or JobIncomplete."""

    event_id: str
    event_type: str
    technician_id: str
    at: datetime
    labour_minutes: int
    incomplete_reason: IncompleteReason | None = None


@dataclass(frozen=True)
class Trigger:
    """The event a pricing decision answers (the outcome itself, or a later correction)."""

    event_id: str
    event_type: str
    at: datetime


@dataclass(frozen=True)
class Technician:
    """A technician's profile version in force, and the event that carried it."""

    event_id: str
    profile: TechnicianProfile


@dataclass(frozen=True)
class JobFacts:
    """Everything known about a job at its trigger."""

    work_order_id: str
    details_event_id: str
    details: WorkOrderDetails
    outcome: Outcome
    trigger: Trigger
    labour: tuple[LabourEntry, ...]
    materials: tuple[MaterialEntry, ...]
    technicians: Mapping[str, Technician]


T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A configuration document and its version number."""

    version: int
    document: T


@dataclass(frozen=True)
class PricingConfig:
    """The configuration versions in force at the trigger's time."""

    rate_card: Versioned[RateCard]
    contract: Versioned[ContractTerms] | None = None
    price_book: Mapping[str, Versioned[PriceBookEntry]] = field(default_factory=dict)


@dataclass(frozen=True)
class PricedJob:
    """A job priced: the lines and terms of the invoice it gets."""

    lines: tuple[InvoiceLine, ...]
    currency: str
    payment_terms_days: int
    basis: PricingBasis


@dataclass(frozen=True)
class NotChargeable:
    """The outcome is not charged (an incomplete visit the terms do not bill)."""

    reason: str


class PricingBlockedError(Exception):
    """The job cannot be priced with the configuration in force (a part with no price…).

    An internal signal, not a refusal to a caller: ``handlers.evaluate`` records the job as
    ``blocked`` with the message as its reason, and ``rebuild.verify`` reports it as drift.
    """


def job_skill_level(details: WorkOrderDetails, profile: TechnicianProfile, default: int) -> int:
    """The grade a technician works at on this job.

    Their highest level in a required skill, or the rate card's default when they hold none
    of them.
    """
    levels = [s.level for s in profile.skills if s.name in details.required_skills]
    return max(levels) if levels else default


def _labour_lines(facts: JobFacts, card: RateCard, included_minutes: int) -> list[InvoiceLine]:
    """Labour grouped by technician and band; included minutes consume normal time."""
    logged = list(facts.labour)
    unlogged = facts.outcome.labour_minutes - sum(e.minutes for e in logged)
    if unlogged > 0:
        # Minutes stated at completion beyond those logged: billed at the normal rate.
        logged.append(LabourEntry(facts.outcome.event_id, facts.outcome.technician_id, unlogged))
    minutes: dict[tuple[str, Band], int] = {}
    sources: dict[tuple[str, Band], list[str]] = {}
    for entry in logged:
        tech = facts.technicians[entry.technician_id].profile
        split = band_minutes(
            entry.minutes,
            entry.started_at,
            entry.ended_at,
            site_zone=facts.details.site.time_zone,
            business_hours=card.business_hours,
            technician_zone=tech.time_zone,
            shifts=tech.shifts,
        )
        for band, count in split.items():
            if count:
                key = (entry.technician_id, band)
                minutes[key] = minutes.get(key, 0) + count
                sources.setdefault(key, []).append(entry.event_id)
    lines: list[InvoiceLine] = []
    remaining_included = included_minutes
    for key in sorted(minutes, key=lambda k: (k[0], list(Band).index(k[1]))):
        technician_id, band = key
        technician = facts.technicians[technician_id]
        level = job_skill_level(facts.details, technician.profile, card.default_skill_level)
        multiplier = {
            Band.NORMAL: 10_000,
            Band.OVERTIME: card.overtime_multiplier_bp,
            Band.OUT_OF_HOURS: card.out_of_hours_multiplier_bp,
        }[band]
        unit = apply_basis_points(card.labour_rate(level), multiplier)
        worked = minutes[key]
        ids = [*sources[key], technician.event_id]
        if band is Band.NORMAL and remaining_included:
            covered = min(worked, remaining_included)
            remaining_included -= covered
            worked -= covered
            lines.append(
                priced_line(
                    LineKind.LABOUR,
                    f"Labour included in contract: {technician.profile.name}, {covered} min",
                    minutes_to_hours_milli(covered),
                    0,
                    card.tax_rate_bp,
                    ids,
                )
            )
        if not worked:
            continue
        increment = card.labour_increment_minutes
        billed = -(-worked // increment) * increment  # round up to the increment
        label = {
            Band.NORMAL: "",
            Band.OVERTIME: f", overtime ×{multiplier / 10_000:g}",
            Band.OUT_OF_HOURS: f", out of hours ×{multiplier / 10_000:g}",
        }[band]
        lines.append(
            priced_line(
                LineKind.LABOUR,
                f"Labour: {technician.profile.name} (level {level}){label}, "
                f"{worked} min billed as {billed} min",
                minutes_to_hours_milli(billed),
                unit,
                card.tax_rate_bp,
                ids,
            )
        )
    return lines


def _material_line(
    entry: MaterialEntry, config: PricingConfig, used: dict[str, int]
) -> InvoiceLine | None:
    card = config.rate_card.document
    book = config.price_book.get(entry.sku)
    ids = [entry.event_id, *entry.correction_event_ids]
    if entry.quantity_milli == 0:
        return None  # corrected away: not used after all
    tax = card.tax_rate_bp
    if book is not None:
        used[entry.sku] = book.version
        item = book.document
        tax = item.tax_rate_bp if item.tax_rate_bp is not None else tax
        if item.pricing is ItemPricing.FIXED:
            assert item.unit_price_minor is not None
            unit = item.unit_price_minor
        else:
            cost = (
                entry.unit_cost_minor if entry.unit_cost_minor is not None else item.unit_cost_minor
            )
            if cost is None:
                raise PricingBlockedError(f"no cost for cost-plus part {entry.sku}")
            assert item.markup_bp is not None
            unit = apply_basis_points(cost, 10_000 + item.markup_bp)
    elif entry.source is MaterialSource.BOUGHT_IN and entry.unit_cost_minor is not None:
        unit = apply_basis_points(entry.unit_cost_minor, 10_000 + card.bought_in_markup_bp)
    else:
        raise PricingBlockedError(f"part {entry.sku} is not in the price book and has no cost")
    if entry.unit_cost_minor is not None and entry.currency != card.currency:
        raise PricingBlockedError(
            f"part {entry.sku} cost is in {entry.currency}, not {card.currency}"
        )
    quantity = f"{entry.quantity_milli / MILLI:g} {entry.unit}"
    return priced_line(
        LineKind.MATERIAL,
        f"{entry.description} ({entry.sku}), {quantity}",
        entry.quantity_milli,
        unit,
        tax,
        ids,
    )


def price_job(facts: JobFacts, config: PricingConfig) -> PricedJob | NotChargeable:
    """The invoice a job gets at its trigger, or why it gets none.

    Raises:
        PricingBlockedError: the configuration in force cannot price it.
    """
    card = config.rate_card.document
    terms = config.contract.document if config.contract else ContractTerms()
    outcome = facts.outcome
    if outcome.event_type == "JobIncomplete":
        chargeable = (
            terms.charge_incomplete_reasons
            if terms.charge_incomplete_reasons is not None
            else card.charge_incomplete_reasons
        )
        if outcome.incomplete_reason not in chargeable:
            reason = outcome.incomplete_reason.value if outcome.incomplete_reason else "unknown"
            return NotChargeable(f"incomplete visit ({reason}) is not charged")
    details = facts.details
    outcome_and_details = [facts.details_event_id, outcome.event_id]
    lines: list[InvoiceLine] = []
    fixed = terms.fixed_price_jobs.get(details.job_type)
    if fixed is not None:
        covered = [*outcome_and_details, *(e.event_id for e in facts.labour)]
        lines.append(
            priced_line(
                LineKind.FIXED_PRICE,
                f"{details.job_type.replace('_', ' ').capitalize()}: fixed price under contract",
                MILLI,
                fixed.net_minor,
                card.tax_rate_bp,
                covered,
            )
        )
    else:
        fee = card.call_out_fee_by_priority[details.priority]
        if fee and not terms.call_out_included:
            lines.append(
                priced_line(
                    LineKind.CALL_OUT,
                    f"Call-out ({details.priority.value})",
                    MILLI,
                    fee,
                    card.tax_rate_bp,
                    outcome_and_details,
                )
            )
        lines += _labour_lines(facts, card, terms.included_labour_minutes)
    used_book: dict[str, int] = {}
    if fixed is None or not fixed.includes_parts:
        for entry in facts.materials:
            material = _material_line(entry, config, used_book)
            if material is not None:
                lines.append(material)
    net = totals(lines).net
    # The minimum charge is for time-and-materials work: a contract that includes labour or
    # the call-out, or fixes the price, has already agreed what a small job costs.
    inclusive = terms.call_out_included or terms.included_labour_minutes > 0
    if fixed is None and not inclusive and 0 < net < card.minimum_charge_net_minor:
        lines.append(
            priced_line(
                LineKind.MINIMUM_CHARGE,
                "Minimum charge top-up",
                MILLI,
                card.minimum_charge_net_minor - net,
                card.tax_rate_bp,
                outcome_and_details,
            )
        )
    technician_ids = sorted({outcome.technician_id, *(e.technician_id for e in facts.labour)})
    basis = PricingBasis(
        trigger_event_id=facts.trigger.event_id,
        trigger_type=facts.trigger.event_type,
        details_event_id=facts.details_event_id,
        technician_profile_event_ids=tuple(
            facts.technicians[t].event_id for t in technician_ids if t in facts.technicians
        ),
        rate_card_version=config.rate_card.version,
        contract_id=details.contract_id,
        contract_version=config.contract.version if config.contract else None,
        price_book_entries=tuple(f"{sku}@{v}" for sku, v in sorted(used_book.items())),
    )
    return PricedJob(
        lines=tuple(lines),
        currency=card.currency,
        payment_terms_days=(
            terms.payment_terms_days
            if terms.payment_terms_days is not None
            else card.payment_terms_days
        ),
        basis=basis,
    )
