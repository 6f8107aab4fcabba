"""The KPIs, computed from job and technician facts; every definition is in docs/kpis.md.

Pure: the same function answers "now" (facts from the projection) and "as of T" (facts
folded from the events known at T), and a different ``Definition`` recomputes a KPI over
the whole history under another rule.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts, is_open_at, priority_at
from jobstream.reporting.domain.technicians import TechnicianFacts, shift_minutes_by_day

DAY = 86_400.0
ALL = "all"
UNASSIGNED = "unassigned"
# A rating of at least this (out of 5) counts as a satisfied customer.
SATISFIED_SCORE = 4
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0-1d", 1 * DAY),
    ("1-3d", 3 * DAY),
    ("3-7d", 7 * DAY),
    ("7-30d", 30 * DAY),
    ("30d+", math.inf),
)


class GroupBy(StrEnum):
    """How job-based KPIs are broken down."""

    NONE = "none"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"
    JOB_TYPE = "job_type"
    PRIORITY = "priority"


@dataclass(frozen=True)
class Definition:
    """The adjustable parts of the KPI definitions (defaults are the documented ones)."""

    ftf_window_days: float = 30.0
    # Whether the technician's own "not a first-time fix" / "follow-up needed" flags count.
    ftf_trust_technician_flags: bool = True
    # Whether a planned maintenance visit at the same site and asset counts as a follow-up.
    ftf_planned_visits_count: bool = False


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds, judged at ``evaluated_at`` (now, or the as-of T)."""

    start: float
    end: float
    evaluated_at: float

    @property
    def instant(self) -> float:
        """The instant backlog and pending outcomes are judged at."""
        return min(self.end, self.evaluated_at)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for no values."""
    return sum(values) / len(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """90th percentile by nearest rank: the smallest value ≥ 90 % of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def _in(period: Period, at: float | None) -> bool:
    return at is not None and period.start <= at < period.end and at <= period.evaluated_at


def first_completion(job: JobFacts) -> float | None:
    """When the job was first completed."""
    return job["completion"]["at"] if job["completion"] else None


def response_at(job: JobFacts) -> float | None:
    """When someone was first on site: arrival, or failing that the start or completion."""
    evidence = [a[0] for a in job["arrivals"]]
    evidence += [job["started_at"], first_completion(job)]
    known = [t for t in evidence if t is not None]
    return min(known) if known else None


def group_key(job: JobFacts, group_by: GroupBy) -> str:
    """The group a job falls in."""
    if group_by is GroupBy.NONE:
        return ALL
    if group_by is GroupBy.TECHNICIAN:
        completion = job["completion"]
        tech = completion["technician_id"] if completion else job["technician_id"]
        return tech or UNASSIGNED
    if group_by is GroupBy.CUSTOMER:
        return job["customer_id"] or "unknown"
    if group_by is GroupBy.JOB_TYPE:
        return job["job_type"] or "unknown"
    return job["priority"] or "unknown"


def effective_deadline(job: JobFacts, which: int, met_at: float | None) -> float | None:
    """The deadline a job is judged against (which: 1 respond, 2 resolve).

    The deadlines set at logging hold unless changed (priority change or amendment); a
    change applies only if made before the deadline then in force had passed and before
    the job had already met it, so a breach cannot be undone by lowering the priority.
    """
    deadline: float | None = None
    for changed_at, *pair in sorted(
        job["deadlines"], key=lambda d: d[0] if d[0] is not None else -math.inf
    ):
        new = pair[which - 1]
        if deadline is None:
            deadline = new
            continue
        if changed_at is None or changed_at > deadline:
            continue
        if met_at is not None and changed_at > met_at:
            continue
        deadline = new
    return deadline


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


# ---------------------------------------------------------------------------------------
# job-based KPIs


def _follow_up_index(jobs: Sequence[JobFacts], definition: Definition) -> dict[Any, list]:
    by_place: dict[Any, list[tuple[float, str]]] = defaultdict(list)
    for job in jobs:
        if job["logged_at"] is None or job["site_id"] is None:
            continue
        planned = job["channel"] == "planned" or job["maintenance_plan_id"] is not None
        if planned and not definition.ftf_planned_visits_count:
            continue
        by_place[(job["site_id"], job["asset_id"])].append((job["logged_at"], job["work_order_id"]))
    return by_place


def is_repeat_visit(job: JobFacts) -> bool:
    done = first_completion(job)
    assert done is not None
    arrivals = [a for a in job["arrivals"] if a[0] is not None and a[0] <= done]
    incompletes = [i for i in job["incompletes"] if i[0] is not None and i[0] <= done]
    return len(arrivals) > 1 or bool(incompletes)


def first_time_fix(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy, definition: Definition
) -> dict[str, dict[str, Any]]:
    """Share of jobs first completed in the period that were fixed on the first visit."""
    window = definition.ftf_window_days * DAY
    places = _follow_up_index(jobs, definition)
    follow_ups_of: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        if job["follow_up_of"] and job["logged_at"] is not None:
            follow_ups_of[job["follow_up_of"]].append(job["logged_at"])
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        done = first_completion(job)
        if not _in(period, done):
            continue
        assert done is not None
        horizon = min(done + window, period.evaluated_at)
        reasons = []
        if is_repeat_visit(job):
            reasons.append("more_than_one_visit")
        completion = job["completion"]
        if definition.ftf_trust_technician_flags and (
            not completion["first_time_fix"] or completion["follow_up_needed"]
        ):
            reasons.append("technician_flagged")
        if any(kind == "reopened" and done < at <= horizon for at, kind in job["closures"]):
            reasons.append("reopened")
        follow_up = any(done < at <= horizon for at in follow_ups_of[job["work_order_id"]]) or any(
            done < at <= horizon and other != job["work_order_id"]
            for at, other in places.get((job["site_id"], job["asset_id"]), ())
        )
        if follow_up:
            reasons.append("follow_up_within_window")
        g = out.setdefault(group_key(job, group_by), {"completed": 0, "fixed": 0, "provisional": 0})
        g["completed"] += 1
        if not reasons:
            g["fixed"] += 1
            if done + window > period.evaluated_at:
                g["provisional"] += 1
    for g in out.values():
        g["rate"] = rate(g["fixed"], g["completed"])
    return out


def sla(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy, which: str
) -> dict[str, dict[str, Any]]:
    """Respond or resolve compliance of the jobs whose deadline falls in the period."""
    index = 1 if which == "respond" else 2
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        if job["logged_at"] is None or not job["deadlines"]:
            continue
        met_at = response_at(job) if which == "respond" else first_completion(job)
        if met_at is not None and met_at > period.evaluated_at:
            met_at = None
        deadline = effective_deadline(job, index, met_at)
        if deadline is None or not (period.start <= deadline < period.end):
            continue
        closed = [
            at
            for at, kind in job["closures"]
            if kind in ("cancelled", "rejected") and at is not None
        ]
        if met_at is None and closed and min(closed) <= deadline:
            continue  # cancelled or rejected before it was due: not judged
        g = out.setdefault(group_key(job, group_by), {"met": 0, "breached": 0, "pending": 0})
        if met_at is not None and met_at <= deadline:
            g["met"] += 1
        elif met_at is not None or deadline <= period.evaluated_at:
            g["breached"] += 1
        else:
            g["pending"] += 1
    for g in out.values():
        g["rate"] = rate(g["met"], g["met"] + g["breached"])
    return out


def _durations(
    jobs: Sequence[JobFacts],
    period: Period,
    group_by: GroupBy,
    end_of: Callable[[JobFacts], float | None],
    start_of: Callable[[JobFacts], float | None],
) -> dict[str, dict[str, Any]]:
    values: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        end, start = end_of(job), start_of(job)
        if start is None or not _in(period, end):
            continue
        assert end is not None
        values[group_key(job, group_by)].append((end - start) / 60)
    return {
        key: {"count": len(v), "mean_minutes": mean(v), "p90_minutes": p90(v)}
        for key, v in values.items()
    }


def _logged(job: JobFacts) -> float | None:
    return job["logged_at"]


def time_to_schedule(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """Logging → first JobScheduled, for jobs first scheduled in the period."""
    return _durations(jobs, period, group_by, lambda j: j["scheduled_at"], _logged)


def time_to_arrive(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """Logging → first on site, for jobs first reached in the period."""
    return _durations(jobs, period, group_by, response_at, _logged)


def time_to_complete(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """Logging → first completion, for jobs first completed in the period."""
    return _durations(jobs, period, group_by, first_completion, _logged)


def completion_to_invoice(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """First completion → first invoice, for jobs first invoiced in the period."""

    def first_invoice(job: JobFacts) -> float | None:
        issued = [i["issued_at"] for i in job["invoices"].values() if i["issued_at"] is not None]
        return min(issued) if issued else None

    return _durations(jobs, period, group_by, first_invoice, first_completion)


def repeat_visits(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """Share of jobs first completed in the period that took more than one visit."""
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        if not _in(period, first_completion(job)):
            continue
        g = out.setdefault(group_key(job, group_by), {"completed": 0, "repeat": 0})
        g["completed"] += 1
        g["repeat"] += is_repeat_visit(job)
    for g in out.values():
        g["rate"] = rate(g["repeat"], g["completed"])
    return out


def rating_key(job: JobFacts, group_by: GroupBy) -> str:
    """The group a job's rating falls in: by technician the one the rating names, else the
    job's technician group; otherwise the job's group."""
    technician = job["rating"]["technician_id"] if job["rating"] else None
    if group_by is GroupBy.TECHNICIAN and technician:
        return str(technician)
    return group_key(job, group_by)


def satisfaction(ratings: int, score_total: int, satisfied: int) -> dict[str, Any]:
    """The customer satisfaction figures of ``ratings`` ratings adding up to ``score_total``,
    ``satisfied`` of them at SATISFIED_SCORE or more (ratings > 0)."""
    return {
        "ratings": ratings,
        "mean_score": round(score_total / ratings, 2),
        "satisfied": satisfied,
        "rate": rate(satisfied, ratings),
    }


def customer_satisfaction(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """The customers' ratings of the jobs first completed in the period, as far as they
    were made by the evaluation instant; a job without a rating is not counted."""
    scores: dict[str, list[int]] = defaultdict(list)
    for job in jobs:
        rating = job["rating"]
        if rating is None or not _in(period, first_completion(job)):
            continue
        if rating["rated_at"] is None or rating["rated_at"] > period.evaluated_at:
            continue
        scores[rating_key(job, group_by)].append(rating["score"])
    return {
        key: satisfaction(len(v), sum(v), sum(s >= SATISFIED_SCORE for s in v))
        for key, v in scores.items()
    }


def parts_usage(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> dict:
    """Quantity used per SKU (after corrections), by when it was used."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for job in jobs:
        for at, _tech, sku, description, quantity, unit in job["materials"].values():
            if quantity <= 0 or not _in(period, at):
                continue
            part = out.setdefault(group_key(job, group_by), {}).setdefault(
                sku, {"description": description, "unit": unit, "quantity_milli": 0, "jobs": []}
            )
            # Entries of one SKU normally agree; if not, the alphabetically first wins, so
            # the answer does not depend on the order jobs are read in.
            part["description"] = min(part["description"], description)
            part["unit"] = min(part["unit"], unit)
            part["quantity_milli"] += quantity
            if job["work_order_id"] not in part["jobs"]:
                part["jobs"].append(job["work_order_id"])
    for parts in out.values():
        for part in parts.values():
            part["jobs"] = len(part["jobs"])
    return out


def backlog(jobs: Sequence[JobFacts], period: Period) -> dict[str, Any]:
    """Jobs open at the end of the period (or now), by priority then age."""
    at = period.instant
    by_priority: dict[str, dict[str, int]] = {}
    total = 0
    oldest = 0.0
    for job in jobs:
        if not is_open_at(job, at):
            continue
        age = at - job["logged_at"]
        bucket = next(name for name, limit in AGE_BUCKETS if age < limit)
        counts = by_priority.setdefault(
            priority_at(job, at) or "unknown", {name: 0 for name, _ in AGE_BUCKETS}
        )
        counts[bucket] += 1
        total += 1
        oldest = max(oldest, age)
    return {
        "at": at,
        "total": total,
        "by_priority": dict(sorted(by_priority.items())),
        "oldest_age_hours": oldest / 3600 if total else None,
    }


# ---------------------------------------------------------------------------------------
# technician KPIs


def labour_entries(job: JobFacts) -> Iterable[tuple[float | None, str, float]]:
    """(at, technician, minutes) of a job's labour: its time entries, else the totals
    reported at completion and at each incomplete visit."""
    if job["labour"]:
        for at, tech, minutes in job["labour"].values():
            yield at, tech, minutes
        return
    for at, tech, _reason, minutes in job["incompletes"]:
        yield at, tech, minutes
    completion = job["completion"]
    if completion:
        yield completion["at"], completion["technician_id"], completion["labour_minutes"]


def technician_kpis(
    jobs: Sequence[JobFacts], techs: Mapping[str, TechnicianFacts], period: Period
) -> dict[str, dict[str, Any]]:
    """Jobs per shift day, utilisation, for every technician known."""
    completed: dict[str, int] = defaultdict(int)
    labour: dict[str, float] = defaultdict(float)
    for job in jobs:
        if _in(period, first_completion(job)):
            completed[job["completion"]["technician_id"]] += 1
        for at, tech_id, minutes in labour_entries(job):
            if _in(period, at):
                labour[tech_id] += minutes
    return technician_table(techs, period, completed, labour)


def technician_table(
    techs: Mapping[str, TechnicianFacts],
    period: Period,
    completed: Mapping[str, int],
    labour: Mapping[str, float],
) -> dict[str, dict[str, Any]]:
    """The technician KPIs from first completions and labour minutes in the period, per
    technician (every technician known, and any other who completed or logged labour)."""
    out: dict[str, dict[str, Any]] = {}
    for tech_id in sorted({*techs, *completed, *labour}):
        tech = techs.get(tech_id)
        days = shift_minutes_by_day(tech, period.start, period.end) if tech else {}
        r = {
            "name": tech["name"] if tech else None,
            "jobs_completed": completed.get(tech_id, 0),
            "shift_days": len(days),
            "shift_minutes": sum(days.values()),
            "labour_minutes": 0.0 + labour.get(tech_id, 0.0),
        }
        r["jobs_per_day"] = r["jobs_completed"] / r["shift_days"] if r["shift_days"] else None
        r["utilisation"] = r["labour_minutes"] / r["shift_minutes"] if r["shift_minutes"] else None
        out[tech_id] = r
    return out


def revenue(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy
) -> dict[str, dict[str, dict[str, int]]]:
    """Net invoiced less net credited in the period, per currency.

    By technician the invoice's own ``technician_id`` decides (else the job's completing
    technician); a credit note counts against the technician of the invoice it credits.
    """

    def key(job: JobFacts, invoice: Mapping[str, Any] | None) -> str:
        if group_by is GroupBy.TECHNICIAN and invoice and invoice["technician_id"]:
            return str(invoice["technician_id"])
        return group_key(job, group_by)

    out: dict[str, dict[str, dict[str, int]]] = {}

    def add(k: str, currency: str, field: str, amount: int) -> None:
        money = out.setdefault(k, {}).setdefault(
            currency, {"invoiced_net_minor": 0, "credited_net_minor": 0, "net_minor": 0}
        )
        money[field] += amount
        money["net_minor"] += amount if field == "invoiced_net_minor" else -amount

    for job in jobs:
        for invoice in job["invoices"].values():
            if _in(period, invoice["issued_at"]):
                add(
                    key(job, invoice),
                    invoice["currency"],
                    "invoiced_net_minor",
                    invoice["net_minor"],
                )
        for credit in job["credits"]:
            if _in(period, credit["issued_at"]):
                credited = job["invoices"].get(credit["invoice_id"])
                add(
                    key(job, credited),
                    credit["currency"],
                    "credited_net_minor",
                    credit["net_minor"],
                )
    return out


def compute(
    jobs: Sequence[JobFacts],
    techs: Mapping[str, TechnicianFacts],
    period: Period,
    group_by: GroupBy = GroupBy.NONE,
    definition: Definition | None = None,
) -> dict[str, Any]:
    """Every KPI for the period."""
    definition = definition or Definition()
    return {
        "period": {"start": period.start, "end": period.end, "evaluated_at": period.evaluated_at},
        "group_by": group_by.value,
        "definition": asdict(definition),
        "first_time_fix": first_time_fix(jobs, period, group_by, definition),
        "sla_respond": sla(jobs, period, group_by, "respond"),
        "sla_resolve": sla(jobs, period, group_by, "resolve"),
        "time_to_schedule": time_to_schedule(jobs, period, group_by),
        "time_to_arrive": time_to_arrive(jobs, period, group_by),
        "time_to_complete": time_to_complete(jobs, period, group_by),
        "completion_to_invoice": completion_to_invoice(jobs, period, group_by),
        "repeat_visits": repeat_visits(jobs, period, group_by),
        "customer_satisfaction": customer_satisfaction(jobs, period, group_by),
        "parts_usage": parts_usage(jobs, period, group_by),
        "revenue": revenue(jobs, period, group_by),
        "technicians": technician_kpis(jobs, techs, period),
        "backlog": backlog(jobs, period),
    }
