"""Per-job measure rows, what each KPI needs from one job; db/kpi_queries.py aggregates them.

They are worked out once when the job is folded (docs/adr/0053), so a KPI over any period
is an aggregate of these rows. Only what does not depend on the
period or the evaluation instant is worked out here, with the same functions the pure KPIs
use (the other modules of this package); what does (a period's bounds, the first-time-fix
window, whether a deadline has passed yet) stays in the query (db/kpi_queries.py). The
projection writes the rows (projections.py) into the tables of db/tables.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts, is_open_at, priority_at
from jobstream.reporting.domain.kpis.durations import first_invoice
from jobstream.reporting.domain.kpis.first_time_fix import (
    is_planned,
    is_repeat_visit,
    technician_flagged,
)
from jobstream.reporting.domain.kpis.satisfaction import rating_key
from jobstream.reporting.domain.kpis.sla import RESOLVE, RESPOND, effective_deadline, withdrawn_at
from jobstream.reporting.domain.kpis.terms import GroupBy, first_completion, group_key, response_at
from jobstream.reporting.domain.kpis.utilisation import labour_entries

Row = dict[str, Any]


@dataclass
class JobMeasures:
    """A job's measure rows: one in job_measures, any number in each child table."""

    measures: Row
    parts: list[Row] = field(default_factory=list)
    labour: list[Row] = field(default_factory=list)
    money: list[Row] = field(default_factory=list)
    open_spans: list[Row] = field(default_factory=list)


def _deadlines(job: JobFacts, which: int, met_at: float | None) -> tuple[Any, Any]:
    """(effective deadline if not met, effective deadline against ``met_at``)."""
    if job["logged_at"] is None or not job["deadlines"]:
        return None, None
    unmet = effective_deadline(job, which, None)
    return unmet, effective_deadline(job, which, met_at) if met_at is not None else None


def _open_spans(job: JobFacts) -> list[Row]:
    """The [opened_at, closed_at) intervals the job was open in, split where its priority changed.

    is_open_at and priority_at change value only at these breakpoints.
    """
    logged = job["logged_at"]
    if logged is None:
        return []
    moments = {logged}
    moments.update(at for at, _ in job["closures"] if at is not None and at > logged)
    moments.update(at for at, _ in job["priorities"] if at is not None and at > logged)
    spans: list[Row] = []
    ordered = sorted(moments)
    for i, at in enumerate(ordered):
        until = ordered[i + 1] if i + 1 < len(ordered) else None
        if not is_open_at(job, at):
            continue
        priority = priority_at(job, at) or "unknown"
        last = spans[-1] if spans else None
        if last is not None and last["closed_at"] == at and last["priority"] == priority:
            last["closed_at"] = until
            continue
        spans.append(
            {
                "work_order_id": job["work_order_id"],
                "opened_at": at,
                "closed_at": until,
                "logged_at": logged,
                "priority": priority,
            }
        )
    return spans


def measure(job: JobFacts) -> JobMeasures:
    """The measure rows of one job's facts."""
    wo = job["work_order_id"]
    done = first_completion(job)
    completion = job["completion"]
    responded = response_at(job)
    respond_due, respond_due_if_met = _deadlines(job, RESPOND, responded)
    resolve_due, resolve_due_if_met = _deadlines(job, RESOLVE, done)
    reopenings = [
        at
        for at, kind in job["closures"]
        if kind == "reopened" and at is not None and done is not None and at > done
    ]
    by_technician = group_key(job, GroupBy.TECHNICIAN)
    rating = job["rating"]
    measures = {
        "work_order_id": wo,
        "logged_at": job["logged_at"],
        "by_technician": by_technician,
        "by_customer": group_key(job, GroupBy.CUSTOMER),
        "by_job_type": group_key(job, GroupBy.JOB_TYPE),
        "by_priority": group_key(job, GroupBy.PRIORITY),
        "site_id": job["site_id"],
        "asset_id": job["asset_id"],
        "follow_up_of": job["follow_up_of"],
        "is_planned": is_planned(job),
        "scheduled_at": job["scheduled_at"],
        "responded_at": responded,
        "completed_at": done,
        "completed_by": completion["technician_id"] if completion else None,
        "invoiced_at": first_invoice(job),
        "repeat_visit": done is not None and is_repeat_visit(job),
        "technician_flagged": technician_flagged(job),
        "reopened_at": min(reopenings) if reopenings else None,
        "withdrawn_at": withdrawn_at(job),
        "respond_due": respond_due,
        "respond_due_if_met": respond_due_if_met,
        "resolve_due": resolve_due,
        "resolve_due_if_met": resolve_due_if_met,
        "rating_score": rating["score"] if rating else None,
        "rated_at": rating["rated_at"] if rating else None,
        "rating_by_technician": rating_key(job, GroupBy.TECHNICIAN) if rating else None,
    }
    parts = [
        {
            "work_order_id": wo,
            "entry_id": entry_id,
            "used_at": at,
            "sku": sku,
            "description": description,
            "quantity_milli": quantity,
            "unit": unit,
        }
        for entry_id, (at, _tech, sku, description, quantity, unit) in job["materials"].items()
    ]
    labour = [
        {"work_order_id": wo, "n": n, "at": at, "technician_id": tech, "minutes": float(minutes)}
        for n, (at, tech, minutes) in enumerate(labour_entries(job))
    ]
    money: list[Row] = []
    for invoice in job["invoices"].values():
        money.append(
            {
                "kind": "invoice",
                "issued_at": invoice["issued_at"],
                "currency": invoice["currency"],
                "net_minor": invoice["net_minor"],
                "by_technician": invoice["technician_id"] or by_technician,
            }
        )
    for credit in job["credits"]:
        credited = job["invoices"].get(credit["invoice_id"])
        money.append(
            {
                "kind": "credit",
                "issued_at": credit["issued_at"],
                "currency": credit["currency"],
                "net_minor": credit["net_minor"],
                "by_technician": (credited and credited["technician_id"]) or by_technician,
            }
        )
    money = [{"work_order_id": wo, "n": n, **m} for n, m in enumerate(money)]
    return JobMeasures(measures, parts, labour, money, _open_spans(job))
