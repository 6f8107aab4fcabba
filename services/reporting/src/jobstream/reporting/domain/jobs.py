"""One work order's facts and status, folded from its events from every topic.

The fold is pure and runs over the job's events in causal order (domain/timeline.py), so
the result depends only on the set of events, never on the order topics were read in:
that is what makes a rebuild, or an as-of answer, equal to the live projection.

Facts are a plain JSON-ready dict with times as epoch seconds (floats). KPIs read tens of
thousands of them per request, and plain dicts of floats decode from JSONB with no parsing
of datetimes or model validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

JobFacts = dict[str, Any]
EventRow = Mapping[str, Any]

# Where a job can be, across the services. "stage" groups them for the office.
PRE_FIELD = frozenset(
    {
        "logged",
        "awaiting_approval",
        "approved",
        "released",
        "scheduling_failed",
        "unscheduled",
        "scheduled",
        "dispatched",
        "reopened",
    }
)
IN_FIELD = frozenset(
    {"acknowledged", "en_route", "on_site", "in_progress", "on_hold", "incomplete"}
)
DONE = frozenset({"completed", "invoiced", "credited", "paid"})
CLOSED = frozenset({"cancelled", "rejected"})

STAGE_OF: dict[str, str] = {
    **{s: "office" for s in PRE_FIELD},
    **{s: "field" for s in IN_FIELD},
    **{s: "done" for s in DONE},
    **{s: "closed" for s in CLOSED},
}

# Event types whose subject is a work order and that this fold reads.
WORK_ORDER_TOPICS = (
    "workorders.intake",
    "workorders.dispatch",
    "workorders.field",
    "workorders.billing",
)


def ts(value: str | datetime | None) -> float | None:
    """An ISO 8601 time (as on the wire) or a datetime as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(value).timestamp()


def new_job(work_order_id: str) -> JobFacts:
    """The facts of a job nothing is known about yet."""
    return {
        "work_order_id": work_order_id,
        "status": None,
        "last_event_type": None,
        "updated_at": None,
        "event_count": 0,
        "customer_id": None,
        "customer_name": None,
        "site_id": None,
        "asset_id": None,
        "job_type": None,
        "channel": None,
        "description": None,
        "follow_up_of": None,
        "maintenance_plan_id": None,
        "logged_at": None,
        "priority": None,
        # [[at, priority]] in time order: the first is the priority at logging.
        "priorities": [],
        # [[at, respond_by, resolve_by]]: the first holds the deadlines set at logging.
        "deadlines": [],
        "released_at": None,
        "approval": None,
        "technician_id": None,
        "scheduled_at": None,
        "dispatched_at": None,
        "scheduling_failures": 0,
        # [[at, technician_id]] for every TechnicianArrived.
        "arrivals": [],
        "started_at": None,
        # [[at, technician_id, reason, labour_minutes]] for every JobIncomplete.
        "incompletes": [],
        # [[at, kind]] where kind is completed, cancelled, rejected or reopened.
        "closures": [],
        "completion": None,
        # {entry_id: [at, technician_id, minutes]} for labour time entries.
        "labour": {},
        # {entry_id: [at, technician_id, sku, description, quantity_milli, unit]}.
        "materials": {},
        # {invoice_id: {...}} and [{...}] for credit notes.
        "invoices": {},
        "credits": [],
        "paid_at": None,
        "cancelled_at": None,
        # The customer's rating of the visit: {score, comment, rated_by, rated_at,
        # technician_id} (the technician the rating names, if any), or None.
        "rating": None,
        "last_event_at": None,
    }


def _set_status(job: JobFacts, status: str, allowed_from: Iterable[str | None] | None) -> None:
    if allowed_from is None or job["status"] in allowed_from:
        job["status"] = status


_BEFORE_FIELD = (None, *PRE_FIELD, "incomplete")
_NOT_DONE_OR_CLOSED = (None, *PRE_FIELD, *IN_FIELD)


def _deadline_change(job: JobFacts, at: float | None, respond_by: Any, resolve_by: Any) -> None:
    pair = [ts(respond_by), ts(resolve_by)]
    if job["deadlines"] and job["deadlines"][-1][1:] == pair:
        return
    job["deadlines"].append([at, *pair])


def _priority_change(job: JobFacts, at: float | None, priority: str | None) -> None:
    if priority is None or job["priority"] == priority:
        return
    job["priority"] = priority
    job["priorities"].append([at, priority])


def _details(job: JobFacts, details: Mapping[str, Any], at: float | None) -> None:
    job["customer_id"] = details["customer_id"]
    job["customer_name"] = details.get("customer_name") or job["customer_name"]
    job["site_id"] = details["site"]["site_id"]
    asset = details.get("asset")
    job["asset_id"] = asset["asset_id"] if asset else job["asset_id"]
    job["job_type"] = details["job_type"]
    job["follow_up_of"] = details.get("follow_up_of") or job["follow_up_of"]
    job["maintenance_plan_id"] = details.get("maintenance_plan_id") or job["maintenance_plan_id"]
    _priority_change(job, at, details["priority"])
    _deadline_change(job, at, details["respond_by"], details["resolve_by"])


def evolve(job: JobFacts, event: EventRow) -> JobFacts:
    """Apply one event (a row of reporting's event log) to a job's facts, in place."""
    kind: str = event["event_type"]
    d: Mapping[str, Any] = event["data"]
    occurred = ts(event["occurred_at"])
    job["event_count"] += 1
    job["last_event_type"] = kind
    job["updated_at"] = occurred
    if occurred is not None and (job["last_event_at"] is None or occurred > job["last_event_at"]):
        job["last_event_at"] = occurred
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(job, d)
    return job


def _request_logged(job: JobFacts, d: Mapping[str, Any]) -> None:
    at = ts(d["logged_at"])
    job["logged_at"] = at
    job["customer_id"] = d["customer_id"]
    job["customer_name"] = d.get("customer_name")
    job["site_id"] = d["site"]["site_id"]
    job["asset_id"] = d["asset"]["asset_id"] if d.get("asset") else None
    job["channel"] = d["channel"]
    job["description"] = d["description"]
    job["follow_up_of"] = d.get("follow_up_of")
    job["maintenance_plan_id"] = d.get("maintenance_plan_id")
    # Logging comes first in causal order; anything earlier was folded from a stray event.
    job["priority"] = d["priority"]
    job["priorities"].insert(0, [at, d["priority"]])
    job["deadlines"].insert(0, [at, ts(d["respond_by"]), ts(d["resolve_by"])])
    _set_status(job, "logged", (None,))


def _priority_changed(job: JobFacts, d: Mapping[str, Any]) -> None:
    at = ts(d["changed_at"])
    _priority_change(job, at, d["priority"])
    _deadline_change(job, at, d["respond_by"], d["resolve_by"])


def _approval_requested(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["approval"] = "requested"
    _set_status(job, "awaiting_approval", ("logged", None))


def _approved(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["approval"] = "approved"
    _set_status(job, "approved", ("awaiting_approval", "logged", None))


def _rejected(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["approval"] = "rejected"
    job["closures"].append([ts(d["rejected_at"]), "rejected"])
    _set_status(job, "rejected", ("awaiting_approval", "logged", None))


def _released(job: JobFacts, d: Mapping[str, Any]) -> None:
    at = ts(d["released_at"])
    job["released_at"] = job["released_at"] or at
    _details(job, d["details"], at)
    _set_status(job, "released", (None, "logged", "awaiting_approval", "approved"))


def _amended(job: JobFacts, d: Mapping[str, Any]) -> None:
    _details(job, d["details"], ts(d["amended_at"]))


def _cancelled(job: JobFacts, d: Mapping[str, Any]) -> None:
    at = ts(d["cancelled_at"])
    job["cancelled_at"] = at
    job["closures"].append([at, "cancelled"])
    _set_status(job, "cancelled", _NOT_DONE_OR_CLOSED)


def _scheduled(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["technician_id"] = d["technician_id"]
    at = ts(d.get("scheduled_at") or d.get("rescheduled_at"))
    if job["scheduled_at"] is None:
        job["scheduled_at"] = at
    _set_status(job, "scheduled", _BEFORE_FIELD)


def _unscheduled(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["technician_id"] = None
    _set_status(job, "unscheduled", _BEFORE_FIELD)


def _scheduling_failed(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["scheduling_failures"] += 1
    _set_status(job, "scheduling_failed", _BEFORE_FIELD)


def _dispatched(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["technician_id"] = d["technician_id"]
    if job["dispatched_at"] is None:
        job["dispatched_at"] = ts(d["dispatched_at"])
    _set_status(job, "dispatched", _BEFORE_FIELD)


def _field_status(status: str) -> Any:
    def apply(job: JobFacts, d: Mapping[str, Any]) -> None:
        _set_status(job, status, _NOT_DONE_OR_CLOSED)

    return apply


def _arrived(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["arrivals"].append([ts(d["device_time"]), d["technician_id"]])
    _set_status(job, "on_site", _NOT_DONE_OR_CLOSED)


def _started(job: JobFacts, d: Mapping[str, Any]) -> None:
    if job["started_at"] is None:
        job["started_at"] = ts(d["device_time"])
    _set_status(job, "in_progress", _NOT_DONE_OR_CLOSED)


def _incomplete(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["incompletes"].append(
        [ts(d["ended_at"]), d["technician_id"], d["reason"], d.get("labour_minutes", 0)]
    )
    _set_status(job, "incomplete", _NOT_DONE_OR_CLOSED)


def _completed(job: JobFacts, d: Mapping[str, Any]) -> None:
    at = ts(d["completed_at"])
    job["closures"].append([at, "completed"])
    job["customer_id"] = job["customer_id"] or d["customer_id"]
    job["site_id"] = job["site_id"] or d.get("site_id")
    job["asset_id"] = job["asset_id"] or d.get("asset_id")
    job["job_type"] = job["job_type"] or d["job_type"]
    if job["priority"] is None:
        _priority_change(job, at, d["priority"])
    completion = {
        "at": at,
        "technician_id": d["technician_id"],
        "labour_minutes": d["labour_minutes"],
        "first_time_fix": d["first_time_fix"],
        "follow_up_needed": d.get("follow_up_needed", False),
        "work_done": d["work_done"],
    }
    # The first completion is the one KPIs judge; a later one (after a reopen) is kept too.
    if job["completion"] is None:
        job["completion"] = completion
    else:
        job["completion"] = {**job["completion"], "last": completion}
    job["status"] = "completed"


def _reopened(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["closures"].append([ts(d["reopened_at"]), "reopened"])
    job["status"] = "reopened"


def _time_logged(job: JobFacts, d: Mapping[str, Any]) -> None:
    if d["kind"] != "labour":
        return
    at = ts(d.get("started_at") or d["device_time"])
    job["labour"][d["entry_id"]] = [at, d["technician_id"], d["minutes"]]


def _material_used(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["materials"][d["entry_id"]] = [
        ts(d["device_time"]),
        d["technician_id"],
        d["sku"],
        d["description"],
        d["quantity_milli"],
        d.get("unit", "each"),
    ]


def _material_corrected(job: JobFacts, d: Mapping[str, Any]) -> None:
    entry = job["materials"].get(d["entry_id"])
    if entry is not None:
        entry[4] = d["quantity_milli"]


def _invoice_issued(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["invoices"][d["invoice_id"]] = {
        "number": d["invoice_number"],
        "technician_id": d.get("technician_id"),
        "currency": d["currency"],
        "net_minor": d["net_total_minor"],
        "gross_minor": d["gross_total_minor"],
        "issued_at": ts(d["issued_at"]),
        "replaces": d.get("replaces_invoice_id"),
    }
    _set_status(job, "invoiced", (None, *PRE_FIELD, *IN_FIELD, "completed", "credited", "invoiced"))


def _credit_note_issued(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["credits"].append(
        {
            "invoice_id": d["invoice_id"],
            "currency": d["currency"],
            "net_minor": d["net_total_minor"],
            "issued_at": ts(d["issued_at"]),
        }
    )
    invoiced = sum(i["net_minor"] for i in job["invoices"].values())
    credited = sum(c["net_minor"] for c in job["credits"])
    if credited >= invoiced:
        _set_status(job, "credited", ("invoiced", "paid"))


def _invoice_paid(job: JobFacts, d: Mapping[str, Any]) -> None:
    job["paid_at"] = ts(d["paid_at"])
    _set_status(job, "paid", ("invoiced", "completed"))


def _visit_rated(job: JobFacts, d: Mapping[str, Any]) -> None:
    # One rating per work order: should another arrive, the first stands (as the first
    # completion does), so the answer does not depend on which came last.
    if job["rating"] is not None:
        return
    job["customer_id"] = job["customer_id"] or d["customer_id"]
    job["rating"] = {
        "score": d["score"],
        "comment": d.get("comment", ""),
        "rated_by": d["rated_by"],
        "rated_at": ts(d["rated_at"]),
        "technician_id": d.get("technician_id"),
    }


_HANDLERS: dict[str, Any] = {
    "RequestLogged": _request_logged,
    "RequestPriorityChanged": _priority_changed,
    "ApprovalRequested": _approval_requested,
    "WorkOrderApproved": _approved,
    "WorkOrderRejected": _rejected,
    "WorkOrderReleased": _released,
    "WorkOrderAmended": _amended,
    "WorkOrderCancelled": _cancelled,
    "VisitRated": _visit_rated,
    "JobScheduled": _scheduled,
    "JobRescheduled": _scheduled,
    "JobUnscheduled": _unscheduled,
    "SchedulingFailed": _scheduling_failed,
    "JobDispatched": _dispatched,
    "JobAcknowledged": _field_status("acknowledged"),
    "TravelStarted": _field_status("en_route"),
    "TechnicianArrived": _arrived,
    "JobStarted": _started,
    "JobResumed": _field_status("in_progress"),
    "JobPutOnHold": _field_status("on_hold"),
    "JobIncomplete": _incomplete,
    "JobCompleted": _completed,
    "JobReopened": _reopened,
    "TimeLogged": _time_logged,
    "MaterialUsed": _material_used,
    "MaterialUsageCorrected": _material_corrected,
    "InvoiceIssued": _invoice_issued,
    "CreditNoteIssued": _credit_note_issued,
    "InvoicePaid": _invoice_paid,
}


def fold(work_order_id: str, events: Iterable[EventRow]) -> JobFacts:
    """A job's facts from its events, which must already be in causal order."""
    job = new_job(work_order_id)
    for event in events:
        evolve(job, event)
    return job


def horizon(job: JobFacts) -> float | None:
    """The latest instant a KPI period must reach for this job to matter to it."""
    times = [job["last_event_at"]]
    for _, respond_by, resolve_by in job["deadlines"]:
        times += [respond_by, resolve_by]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def is_open_at(job: JobFacts, at: float) -> bool:
    """Whether the job was logged and not closed (completed, cancelled, rejected) at ``at``."""
    if job["logged_at"] is None or job["logged_at"] > at:
        return False
    state_open = True
    for _, kind in sorted(c for c in job["closures"] if c[0] is not None and c[0] <= at):
        state_open = kind == "reopened"
    return state_open


def priority_at(job: JobFacts, at: float) -> str | None:
    """The job's priority in force at ``at`` (its first known one before logging)."""
    current: str | None = job["priorities"][0][1] if job["priorities"] else job["priority"]
    for when, priority in job["priorities"]:
        if when is not None and when <= at:
            current = priority
    return current
