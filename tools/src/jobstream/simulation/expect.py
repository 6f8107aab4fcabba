"""What the stack should answer, computed from the ledger alone.

Invoices follow billing's documented rules (docs/adr/0040: call-out by priority, labour per
technician rounded up to the increment at the grade of their best required skill, materials
from the price book or cost plus the bought-in markup, minimum charge, per-line VAT, half-up
rounding once per step) with the configuration read from billing's pricing API; KPIs follow
docs/kpis.md. Nothing here imports a service: the arithmetic is written again on purpose.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jobstream.simulation.ledger import Job, Ledger
from jobstream.simulation.scenario import Scenario, Technician

DAY = 86_400.0
FTF_WINDOW = 30 * DAY
AGE_BUCKETS = (
    ("0-1d", 1 * DAY),
    ("1-3d", 3 * DAY),
    ("3-7d", 7 * DAY),
    ("7-30d", 30 * DAY),
    ("30d+", math.inf),
)
# The job-based KPIs that are durations in minutes, reported as count, mean and p90.
DURATION_KPIS = ("time_to_schedule", "time_to_arrive", "time_to_complete", "completion_to_invoice")


def half_up(numerator: int, denominator: int) -> int:
    """Rounds numerator / denominator half up, with decimals (not billing's integer trick)."""
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def in_force(versions: list[dict[str, Any]], moment: datetime) -> dict[str, Any] | None:
    """The version with the latest effective_from at or before ``moment``."""
    found = [v for v in versions if _at(str(v["effective_from"])) <= moment]
    return max(found, key=lambda v: _at(str(v["effective_from"]))) if found else None


@dataclass
class Line:
    """An expected invoice line."""

    kind: str
    net: int
    tax: int


@dataclass
class Invoice:
    """An expected invoice."""

    lines: list[Line] = field(default_factory=list)

    @property
    def net(self) -> int:
        """Net total."""
        return sum(x.net for x in self.lines)

    @property
    def tax(self) -> int:
        """Tax total."""
        return sum(x.tax for x in self.lines)

    @property
    def gross(self) -> int:
        """Gross total."""
        return self.net + self.tax

    def add(self, kind: str, quantity_milli: int, unit_minor: int, tax_bp: int) -> None:
        """A line: net = quantity × unit, tax = net × rate, each rounded half up."""
        net = half_up(quantity_milli * unit_minor, 1000)
        self.lines.append(Line(kind, net, half_up(net * tax_bp, 10_000)))


def expected_invoice(
    job: Job, details: dict[str, Any], scenario: Scenario, pricing: dict[str, Any]
) -> Invoice | None:
    """The invoice billing should issue for the job's outcome, or None when not chargeable."""
    outcome = job.outcome
    if outcome is None:
        return None
    at = outcome.device_time
    card_version = in_force(pricing["rate_cards"], at)
    assert card_version is not None, "no rate card in force"
    card = card_version["document"]
    terms = _contract_terms(details, pricing, at)
    if outcome.type == "could_not_complete":
        chargeable = terms.get("charge_incomplete_reasons") or card["charge_incomplete_reasons"]
        if outcome.payload["reason"] not in chargeable:
            return None
    tax_bp = card["tax_rate_bp"]
    invoice = Invoice()
    fixed = (terms.get("fixed_price_jobs") or {}).get(details["job_type"])
    if fixed is not None:
        invoice.add("fixed_price", 1000, fixed["net_minor"], tax_bp)
    else:
        fee = card["call_out_fee_by_priority"][details["priority"]]
        if fee and not terms.get("call_out_included"):
            invoice.add("call_out", 1000, fee, tax_bp)
        technician = scenario.technician(outcome.technician_id)
        _add_labour(invoice, job, _skill_level(technician, details, card), card, terms)
    if fixed is None or not fixed.get("includes_parts"):
        for used in job.applied("use_material"):
            unit, line_tax = _material_price(used.payload, pricing, card, at)
            invoice.add("material", used.payload["quantity_milli"], unit, line_tax)
    inclusive = bool(terms.get("call_out_included")) or terms.get("included_labour_minutes", 0) > 0
    minimum = card["minimum_charge_net_minor"]
    if fixed is None and not inclusive and 0 < invoice.net < minimum:
        invoice.add("minimum_charge", 1000, minimum - invoice.net, tax_bp)
    return invoice


def _contract_terms(
    details: dict[str, Any], pricing: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """The billing terms of the job's contract in force at ``at``; none without one."""
    if not details.get("contract_id"):
        return {}
    contract = in_force(
        [c for c in pricing["contracts"] if c["contract_id"] == details["contract_id"]], at
    )
    return contract["document"] if contract else {}


def _skill_level(technician: Technician, details: dict[str, Any], card: dict[str, Any]) -> int:
    """The grade labour is charged at: the technician's best required skill, else the card's."""
    levels = [lvl for s, lvl in technician.skills.items() if s in details["required_skills"]]
    return max(levels) if levels else card["default_skill_level"]


def _add_labour(
    invoice: Invoice, job: Job, level: int, card: dict[str, Any], terms: dict[str, Any]
) -> None:
    """The job's labour lines at the rate for ``level``.

    The contract's included minutes come first, at no charge; the rest is rounded up to the
    rate card's increment.
    """
    tax_bp = card["tax_rate_bp"]
    rate = card["labour_rate_per_hour_by_level"][str(level)]
    # Every entry is a stated duration, so every minute is in the normal band.
    worked = sum(
        a.payload["minutes"] for a in job.applied("log_time") if a.payload["kind"] == "labour"
    )
    included = min(worked, terms.get("included_labour_minutes", 0))
    if included:
        invoice.add("labour", half_up(included * 1000, 60), 0, tax_bp)
        worked -= included
    if worked:
        step = card["labour_increment_minutes"]
        billed = -(-worked // step) * step
        invoice.add("labour", half_up(billed * 1000, 60), rate, tax_bp)


def _material_price(
    used: dict[str, Any], pricing: dict[str, Any], card: dict[str, Any], at: datetime
) -> tuple[int, int]:
    """(unit price, tax rate in basis points) of a part used, as billing prices it.

    A part in the price book has its fixed price or its cost plus the book's markup, and the
    book's tax rate if it names one; any other part is its cost plus the bought-in markup.
    """
    tax_bp = card["tax_rate_bp"]
    book = in_force([e for e in pricing["price_book"] if e["sku"] == used["sku"]], at)
    if book is None:
        unit = half_up(used["unit_cost_minor"] * (10_000 + card["bought_in_markup_bp"]), 10_000)
        return unit, tax_bp
    entry = book["document"]
    if entry.get("tax_rate_bp") is not None:
        tax_bp = entry["tax_rate_bp"]
    if entry["pricing"] == "fixed":
        return entry["unit_price_minor"], tax_bp
    cost = used.get("unit_cost_minor", entry.get("unit_cost_minor"))
    return half_up(cost * (10_000 + entry["markup_bp"]), 10_000), tax_bp


# ---------------------------------------------------------------------------------------
# KPIs (docs/kpis.md)


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


@dataclass
class Period:
    """[start, end) judged at ``at`` (the as-of instant)."""

    start: datetime
    end: datetime
    at: datetime

    def holds(self, moment: datetime | None) -> bool:
        """Whether an instant falls in the period and is known at the evaluation instant."""
        return moment is not None and self.start <= moment < self.end and moment <= self.at


def _first_on_site(job: Job) -> datetime | None:
    evidence = [
        a.device_time
        for a in (job.first("arrive"), job.first("start_work"), job.first("complete"))
        if a is not None
    ]
    return min(evidence) if evidence else None


def _completed(job: Job) -> datetime | None:
    done = job.first("complete")
    return done.device_time if done else None


def _repeat(job: Job) -> bool:
    done = _completed(job)
    assert done is not None
    arrivals = [a for a in job.applied("arrive") if a.device_time <= done]
    incompletes = [a for a in job.applied("could_not_complete") if a.device_time <= done]
    return len(arrivals) > 1 or bool(incompletes)


def _durations(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "mean_minutes": sum(values) / len(values) if values else None,
        "p90_minutes": _p90(values),
    }


def job_kpis(
    jobs: list[Job], invoices: dict[str, list[dict[str, Any]]], period: Period
) -> dict[str, dict[str, Any]]:
    """Per customer: every job-based KPI of docs/kpis.md over ``jobs``."""
    out: dict[str, dict[str, Any]] = defaultdict(_no_kpis)
    later = _LaterWork.of(jobs)
    for job in jobs:
        k = out[job.customer_id]
        done = _completed(job)
        if period.holds(done):
            assert done is not None
            _count_completed(k, job, done, period, later)
        _count_slas(k, job, done, period)
        _count_durations(k, job, done, invoices.get(job.work_order_id, []), period)
        _count_parts_and_revenue(k, job, invoices.get(job.work_order_id, []), period)
    for k in out.values():
        for name in DURATION_KPIS:
            k[name] = _durations(k[name])
        for part in k["parts_usage"].values():
            part["jobs"] = len(part["jobs"])
    return dict(out)


def _no_kpis() -> dict[str, Any]:
    """A customer's job-based KPIs before any job is counted."""
    return {
        "first_time_fix": {"completed": 0, "fixed": 0, "provisional": 0},
        "sla_respond": {"met": 0, "breached": 0, "pending": 0},
        "sla_resolve": {"met": 0, "breached": 0, "pending": 0},
        "time_to_schedule": [],
        "time_to_arrive": [],
        "time_to_complete": [],
        "completion_to_invoice": [],
        "repeat_visits": {"completed": 0, "repeat": 0},
        "parts_usage": {},
        "revenue": 0,
    }


@dataclass
class _LaterWork:
    """What can make a completed job not a first-time fix after the fact.

    ``places``: the reactive jobs logged per (site, asset), with their work order ids;
    ``follow_ups``: when follow-ups of each job were logged.
    """

    places: dict[tuple[str, str | None], list[tuple[datetime, str]]]
    follow_ups: dict[str, list[datetime]]

    @classmethod
    def of(cls, jobs: list[Job]) -> _LaterWork:
        """The later work among ``jobs``."""
        later = cls(defaultdict(list), defaultdict(list))
        for job in jobs:
            if job.channel != "planned":
                later.places[(job.site_id, job.asset_id)].append((job.logged_at, job.work_order_id))
            if job.follow_up_of:
                later.follow_ups[job.follow_up_of].append(job.logged_at)
        return later

    def within(self, job: Job, done: datetime, horizon: datetime) -> bool:
        """Whether a follow-up, or another reactive job at the place, came in (done, horizon]."""
        return any(done < t <= horizon for t in self.follow_ups[job.work_order_id]) or any(
            done < t <= horizon and other != job.work_order_id
            for t, other in self.places[(job.site_id, job.asset_id)]
        )


def _count_completed(
    k: dict[str, Any], job: Job, done: datetime, period: Period, later: _LaterWork
) -> None:
    """First-time fix, repeat visits and time to complete, for a job completed in the period."""
    horizon = min(done + timedelta(seconds=FTF_WINDOW), period.at)
    complete = job.first("complete")
    assert complete is not None
    flagged = not complete.payload["first_time_fix"] or complete.payload.get(
        "follow_up_needed", False
    )
    follow_up = later.within(job, done, horizon)
    fixed = not (_repeat(job) or flagged or follow_up)
    k["first_time_fix"]["completed"] += 1
    k["first_time_fix"]["fixed"] += fixed
    k["first_time_fix"]["provisional"] += fixed and (
        done + timedelta(seconds=FTF_WINDOW) > period.at
    )
    k["repeat_visits"]["completed"] += 1
    k["repeat_visits"]["repeat"] += _repeat(job)
    k["time_to_complete"].append((done - job.logged_at).total_seconds() / 60)


def _count_slas(k: dict[str, Any], job: Job, done: datetime | None, period: Period) -> None:
    """The job's response and resolution deadlines in the period: met, breached or pending."""
    for which, met_at, deadline in (
        ("sla_respond", _first_on_site(job), job.respond_by),
        ("sla_resolve", done, job.resolve_by),
    ):
        if met_at is not None and met_at > period.at:
            met_at = None
        if not period.start <= deadline < period.end:
            continue
        if met_at is not None and met_at <= deadline:
            k[which]["met"] += 1
        elif met_at is not None or deadline <= period.at:
            k[which]["breached"] += 1
        else:
            k[which]["pending"] += 1


def _count_durations(
    k: dict[str, Any],
    job: Job,
    done: datetime | None,
    invoices: list[dict[str, Any]],
    period: Period,
) -> None:
    """Minutes to schedule, to arrive and from completion to invoice, each when in the period."""
    if period.holds(job.scheduled_at):
        assert job.scheduled_at is not None
        k["time_to_schedule"].append((job.scheduled_at - job.logged_at).total_seconds() / 60)
    on_site = _first_on_site(job)
    if period.holds(on_site):
        assert on_site is not None
        k["time_to_arrive"].append((on_site - job.logged_at).total_seconds() / 60)
    issued = [_at(i["issued_at"]) for i in invoices]
    if issued and done is not None and period.holds(min(issued)):
        k["completion_to_invoice"].append((min(issued) - done).total_seconds() / 60)


def _count_parts_and_revenue(
    k: dict[str, Any], job: Job, invoices: list[dict[str, Any]], period: Period
) -> None:
    """Parts the job used and the net of its invoices issued, in the period."""
    for used in job.applied("use_material"):
        if period.holds(used.device_time):
            part = k["parts_usage"].setdefault(
                used.payload["sku"], {"quantity_milli": 0, "jobs": set()}
            )
            part["quantity_milli"] += used.payload["quantity_milli"]
            part["jobs"].add(job.work_order_id)
    for invoice in invoices:
        if period.holds(_at(invoice["issued_at"])):
            k["revenue"] += invoice["net_total_minor"]


def shift_minutes(
    scenario: Scenario, technician_id: str, period: Period, registered_on: date
) -> dict[date, float]:
    """Shift minutes per local day in the period.

    A profile is in force from the first local day that starts after it was registered
    (docs/kpis.md).
    """
    tech = scenario.technician(technician_id)
    zone = ZoneInfo(tech.body["time_zone"])
    day = period.start.astimezone(zone).date()
    last = period.end.astimezone(zone).date()
    out: dict[date, float] = {}
    while day <= last:
        if day > registered_on:
            minutes = 0.0
            for shift in tech.body["shifts"]:
                if shift["weekday"] != day.weekday():
                    continue
                lo = datetime.combine(day, time.fromisoformat(shift["start"]), zone)
                hi = datetime.combine(day, time.fromisoformat(shift["end"]), zone)
                lo, hi = max(lo, period.start), min(hi, period.end)
                if lo < hi:
                    minutes += (hi - lo).total_seconds() / 60
            if minutes > 0:
                out[day] = minutes
        day += timedelta(days=1)
    return out


def technician_kpis(
    scenario: Scenario, jobs: list[Job], period: Period, registered_on: date
) -> dict[str, dict[str, Any]]:
    """Per technician: jobs completed, shift days and minutes, labour minutes."""
    out: dict[str, dict[str, Any]] = {}
    for tech in scenario.technicians:
        days = shift_minutes(scenario, tech.technician_id, period, registered_on)
        out[tech.technician_id] = {
            "jobs_completed": 0,
            "shift_days": len(days),
            "shift_minutes": sum(days.values()),
            "labour_minutes": 0.0,
        }
    for job in jobs:
        complete = job.first("complete")
        if complete is not None and period.holds(complete.device_time):
            out[complete.technician_id]["jobs_completed"] += 1
        for entry in job.applied("log_time"):
            if entry.payload["kind"] == "labour" and period.holds(entry.device_time):
                out[entry.technician_id]["labour_minutes"] += entry.payload["minutes"]
    for row in out.values():
        row["jobs_per_day"] = (
            row["jobs_completed"] / row["shift_days"] if row["shift_days"] else None
        )
        row["utilisation"] = (
            row["labour_minutes"] / row["shift_minutes"] if row["shift_minutes"] else None
        )
    return out


def backlog(jobs: list[Job], period: Period) -> dict[str, Any]:
    """Open jobs at the evaluation instant by priority and age.

    Only meaningful when the stack holds nothing but this run.
    """
    at = min(period.end, period.at)
    by_priority: dict[str, dict[str, int]] = {}
    total = 0
    for job in jobs:
        if job.logged_at > at or _completed(job) is not None:
            continue
        age = (at - job.logged_at).total_seconds()
        bucket = next(name for name, limit in AGE_BUCKETS if age < limit)
        by_priority.setdefault(job.priority, {n: 0 for n, _ in AGE_BUCKETS})[bucket] += 1
        total += 1
    return {"total": total, "by_priority": dict(sorted(by_priority.items()))}


def evaluation_period(ledger: Ledger) -> Period:
    """From just before the first request to two weeks later.

    Two weeks covers every P1–P3 deadline and the contracts' P4 ones. The period is judged
    as of just after the last thing that happened.
    """
    last = max(
        [ledger.finished_at or ledger.started_at]
        + [a.device_time for j in ledger.jobs.values() for a in j.actions]
        + [p[2] for j in ledger.jobs.values() for p in j.payments]
    )
    start = ledger.started_at.replace(microsecond=0) - timedelta(seconds=1)
    return Period(
        start=start,
        end=start + timedelta(days=15),
        at=(last + timedelta(seconds=1)).astimezone(UTC).replace(microsecond=0),
    )
